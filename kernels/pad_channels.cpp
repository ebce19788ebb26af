#include "kernels/pad_channels.h"

#include "kernels/dispatch.h"

namespace sc::ops {

Tensor pad_channels(const Tensor& x, int64_t before, int64_t after) {
  check_dtype(x, DType::F32, "pad_channels", "x");
  check_dim(x, 4, "pad_channels", "x");
  check_contiguous(x, "pad_channels", "x");
  SC_CHECK(before >= 0 && after >= 0, "pad_channels: padding must be non-negative, got ", before, " and ", after);
  Tensor y = Tensor::empty({x.size(0), before + x.size(1) + after, x.size(2), x.size(3)}, DType::F32, x.device());
  if (y.numel() == 0) return y;
  SC_DISPATCH(x.device(), cpu::pad_channels(x, before, y), cuda::pad_channels(x, before, y));
  return y;
}

}  // namespace sc::ops
