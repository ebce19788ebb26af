#include "kernels/gelu.h"

#include "kernels/dispatch.h"

namespace sc::ops {

Tensor gelu(const Tensor& x) {
  SC_CHECK(x.dtype() == DType::F32 || x.dtype() == DType::BF16 || x.dtype() == DType::F16,
           "gelu: x must be float32, bfloat16 or float16, got ", x.describe());
  check_contiguous(x, "gelu", "x");
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (y.numel() == 0) return y;
  SC_DISPATCH(x.device(), cpu::gelu(x, y), cuda::gelu(x, y));
  return y;
}

Tensor gelu_backward(const Tensor& dy, const Tensor& x) {
  const char* op = "gelu_backward";
  check_dtype(x, DType::F32, op, "x");
  check_dtype(dy, DType::F32, op, "dy");
  check_contiguous(x, op, "x");
  check_contiguous(dy, op, "dy");
  check_same_device(x, dy, op);
  check_same_shape(x, dy, op);
  Tensor dx = Tensor::empty(x.shape(), DType::F32, x.device());
  if (dx.numel() == 0) return dx;
  SC_DISPATCH(x.device(), cpu::gelu_backward(dy, x, dx), cuda::gelu_backward(dy, x, dx));
  return dx;
}

}  // namespace sc::ops
