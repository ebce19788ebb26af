// Elementwise arithmetic on same-shape float32 tensors: add (a + b, the residual sum), mul (a · b), affine
// (alpha · x + beta with scalars) and combine (clamp(a · x + b · y, lo, hi), the diffusion x̂ formula).
#pragma once
#include "nn/tensor.h"

namespace sc {

enum class BinaryOp { Add, Mul };

namespace ops {
Tensor add(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor affine(const Tensor& x, float alpha, float beta);
Tensor combine(float a, const Tensor& x, float b, const Tensor& y, float lo, float hi);
}  // namespace ops
namespace cpu {
void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& y);
void affine(const Tensor& x, float alpha, float beta, Tensor& y);
void combine(float a, const Tensor& x, float b, const Tensor& y, float lo, float hi, Tensor& out);
}  // namespace cpu
namespace cuda {
void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& y);
void affine(const Tensor& x, float alpha, float beta, Tensor& y);
void combine(float a, const Tensor& x, float b, const Tensor& y, float lo, float hi, Tensor& out);
}  // namespace cuda
}  // namespace sc
