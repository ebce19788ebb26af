// Elementwise arithmetic on same-shape float32 tensors: add (a + b, the residual sum), mul (a · b) and
// affine (alpha · x + beta with scalars).
#pragma once
#include "nn/tensor.h"

namespace sc {

enum class BinaryOp { Add, Mul };

namespace ops {
Tensor add(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor affine(const Tensor& x, float alpha, float beta);
}  // namespace ops
namespace cpu {
void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& y);
void affine(const Tensor& x, float alpha, float beta, Tensor& y);
}  // namespace cpu
namespace cuda {
void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& y);
void affine(const Tensor& x, float alpha, float beta, Tensor& y);
}  // namespace cuda
}  // namespace sc
