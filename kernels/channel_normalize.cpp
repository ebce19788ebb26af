#include "kernels/channel_normalize.h"

#include "kernels/dispatch.h"
#include "kernels/per_channel_check.h"

namespace sc::ops {

Tensor channel_normalize(const Tensor& x, const Tensor& mean, const Tensor& std) {
  check_per_channel(x, {{&mean, "mean"}, {&std, "std"}}, "channel_normalize");
  Tensor y = Tensor::empty(x.shape(), DType::F32, x.device());
  if (y.numel() == 0) return y;
  SC_DISPATCH(x.device(), cpu::channel_normalize(x, mean, std, y), cuda::channel_normalize(x, mean, std, y));
  return y;
}

}  // namespace sc::ops
