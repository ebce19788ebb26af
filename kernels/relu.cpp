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

}  // namespace sc::ops
