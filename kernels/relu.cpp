#include "kernels/relu.h"

#include "kernels/dispatch.h"

namespace sc::ops {

Tensor relu(const Tensor& x) {
  check_dtype(x, DType::F32, "relu", "x");
  check_contiguous(x, "relu", "x");
  Tensor y = Tensor::empty(x.shape(), DType::F32, x.device());
  if (y.numel() == 0) return y;
  SC_DISPATCH(x.device(), cpu::relu(x, y), cuda::relu(x, y));
  return y;
}

Tensor relu_backward(const Tensor& dy, const Tensor& y) {
  check_dtype(dy, DType::F32, "relu_backward", "dy");
  check_dtype(y, DType::F32, "relu_backward", "y");
  check_contiguous(dy, "relu_backward", "dy");
  check_contiguous(y, "relu_backward", "y");
  check_same_device(dy, y, "relu_backward");
  SC_CHECK(dy.shape() == y.shape(), "relu_backward: dy ", dy.describe(), " and y ", y.describe(),
           " differ in shape");
  Tensor dx = Tensor::empty(y.shape(), DType::F32, y.device());
  if (dx.numel() == 0) return dx;
  SC_DISPATCH(y.device(), cpu::relu_backward(dy, y, dx), cuda::relu_backward(dy, y, dx));
  return dx;
}

}  // namespace sc::ops
