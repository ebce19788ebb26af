#include "kernels/adaptive_avg_pool2d.h"

#include "kernels/dispatch.h"

namespace sc::ops {

Tensor adaptive_avg_pool2d(const Tensor& x, int64_t out_h, int64_t out_w) {
  check_dtype(x, DType::F32, "adaptive_avg_pool2d", "x");
  check_dim(x, 4, "adaptive_avg_pool2d", "x");
  check_contiguous(x, "adaptive_avg_pool2d", "x");
  SC_CHECK(out_h > 0 && out_w > 0, "adaptive_avg_pool2d: output size must be positive, got ", out_h, "x", out_w);
  SC_CHECK(x.size(2) > 0 && x.size(3) > 0, "adaptive_avg_pool2d: empty input ", x.describe());
  Tensor y = Tensor::empty({x.size(0), x.size(1), out_h, out_w}, DType::F32, x.device());
  if (y.numel() == 0) return y;
  SC_DISPATCH(x.device(), cpu::adaptive_avg_pool2d(x, y), cuda::adaptive_avg_pool2d(x, y));
  return y;
}

}  // namespace sc::ops
