#include "kernels/channel_sums.h"

#include "kernels/dispatch.h"
#include "kernels/per_channel_check.h"

namespace sc::ops {

Tensor channel_sums(const Tensor& x) {
  check_per_channel(x, {}, "channel_sums");
  Tensor s = Tensor::empty({x.size(1)}, DType::F32, x.device());
  if (s.numel() == 0) return s;
  if (x.numel() == 0) return Tensor::zeros(s.shape(), DType::F32, x.device());
  SC_DISPATCH(x.device(), cpu::channel_sums(x, s), cuda::channel_sums(x, s));
  return s;
}

}  // namespace sc::ops
