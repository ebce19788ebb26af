#include "kernels/elementwise.h"

#include "kernels/dispatch.h"

namespace sc::ops {

namespace {
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b, const char* name) {
  check_dtype(a, DType::F32, name, "a");
  check_dtype(b, DType::F32, name, "b");
  check_contiguous(a, name, "a");
  check_contiguous(b, name, "b");
  check_same_device(a, b, name);
  check_same_shape(a, b, name);
  Tensor y = Tensor::empty(a.shape(), DType::F32, a.device());
  if (y.numel() == 0) return y;
  SC_DISPATCH(a.device(), cpu::binary(op, a, b, y), cuda::binary(op, a, b, y));
  return y;
}
}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Add, a, b, "add"); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Mul, a, b, "mul"); }

Tensor affine(const Tensor& x, float alpha, float beta) {
  check_dtype(x, DType::F32, "affine", "x");
  check_contiguous(x, "affine", "x");
  Tensor y = Tensor::empty(x.shape(), DType::F32, x.device());
  if (y.numel() == 0) return y;
  SC_DISPATCH(x.device(), cpu::affine(x, alpha, beta, y), cuda::affine(x, alpha, beta, y));
  return y;
}

Tensor combine(float a, const Tensor& x, float b, const Tensor& y, float lo, float hi) {
  check_dtype(x, DType::F32, "combine", "x");
  check_dtype(y, DType::F32, "combine", "y");
  check_contiguous(x, "combine", "x");
  check_contiguous(y, "combine", "y");
  check_same_device(x, y, "combine");
  check_same_shape(x, y, "combine");
  SC_CHECK(lo <= hi, "combine: clamp range [", lo, ", ", hi, "] is empty");
  Tensor out = Tensor::empty(x.shape(), DType::F32, x.device());
  if (out.numel() == 0) return out;
  SC_DISPATCH(x.device(), cpu::combine(a, x, b, y, lo, hi, out), cuda::combine(a, x, b, y, lo, hi, out));
  return out;
}

}  // namespace sc::ops
