#include "kernels/silu.h"

#include "kernels/dispatch.h"

namespace sc::ops {

Tensor silu(const Tensor& x) {
  check_dtype(x, DType::F32, "silu", "x");
  check_contiguous(x, "silu", "x");
  Tensor y = Tensor::empty(x.shape(), DType::F32, x.device());
  if (y.numel() == 0) return y;
  SC_DISPATCH(x.device(), cpu::silu(x, y), cuda::silu(x, y));
  return y;
}

}  // namespace sc::ops
