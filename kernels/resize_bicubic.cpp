#include "kernels/resize_bicubic.h"

#include "kernels/dispatch.h"

namespace sc::ops {

Tensor resize_bicubic(const Tensor& x, int64_t out_h, int64_t out_w) {
  check_dtype(x, DType::F32, "resize_bicubic", "x");
  check_dim(x, 4, "resize_bicubic", "x");
  check_contiguous(x, "resize_bicubic", "x");
  SC_CHECK(out_h > 0 && out_w > 0, "resize_bicubic: output size must be positive");
  SC_CHECK(x.size(2) <= 64 * out_h && x.size(3) <= 64 * out_w, "resize_bicubic: shrinking by more than 64x");
  Tensor h = x;
  if (out_w != x.size(3)) {
    Tensor y = Tensor::empty({x.size(0), x.size(1), x.size(2), out_w}, DType::F32, x.device());
    SC_DISPATCH(x.device(), cpu::resize_bicubic_axis(h, 3, y), cuda::resize_bicubic_axis(h, 3, y));
    h = y;
  }
  if (out_h != x.size(2)) {
    Tensor y = Tensor::empty({x.size(0), x.size(1), out_h, h.size(3)}, DType::F32, x.device());
    SC_DISPATCH(x.device(), cpu::resize_bicubic_axis(h, 2, y), cuda::resize_bicubic_axis(h, 2, y));
    h = y;
  }
  return h;
}

}  // namespace sc::ops
