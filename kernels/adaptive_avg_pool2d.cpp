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

Tensor adaptive_avg_pool2d_backward(const Tensor& dy, int64_t x_h, int64_t x_w) {
  check_dtype(dy, DType::F32, "adaptive_avg_pool2d_backward", "dy");
  check_dim(dy, 4, "adaptive_avg_pool2d_backward", "dy");
  check_contiguous(dy, "adaptive_avg_pool2d_backward", "dy");
  SC_CHECK(x_h > 0 && x_w > 0 && dy.size(2) > 0 && dy.size(3) > 0,
           "adaptive_avg_pool2d_backward: sizes must be positive, got input ", x_h, "x", x_w, " and dy ",
           dy.describe());
  Tensor dx = Tensor::empty({dy.size(0), dy.size(1), x_h, x_w}, DType::F32, dy.device());
  if (dx.numel() == 0) return dx;
  SC_DISPATCH(dy.device(), cpu::adaptive_avg_pool2d_backward(dy, dx),
              cuda::adaptive_avg_pool2d_backward(dy, dx));
  return dx;
}

}  // namespace sc::ops
