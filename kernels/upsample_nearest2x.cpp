#include "kernels/upsample_nearest2x.h"

#include "kernels/dispatch.h"

namespace sc::ops {

Tensor upsample_nearest2x(const Tensor& x) {
  check_dtype(x, DType::F32, "upsample_nearest2x", "x");
  check_dim(x, 4, "upsample_nearest2x", "x");
  check_contiguous(x, "upsample_nearest2x", "x");
  Tensor y = Tensor::empty({x.size(0), x.size(1), 2 * x.size(2), 2 * x.size(3)}, DType::F32, x.device());
  if (y.numel() == 0) return y;
  SC_DISPATCH(x.device(), cpu::upsample_nearest2x(x, y), cuda::upsample_nearest2x(x, y));
  return y;
}

}  // namespace sc::ops
