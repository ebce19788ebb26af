#include "kernels/group_norm.h"

#include "kernels/dispatch.h"
#include "kernels/per_channel_check.h"

namespace sc::ops {

Tensor group_norm(const Tensor& x, int64_t groups, const Tensor& gamma, const Tensor& beta, double eps) {
  check_per_channel(x, {{&gamma, "weight"}, {&beta, "bias"}}, "group_norm");
  SC_CHECK(groups > 0 && x.size(1) % groups == 0, "group_norm: ", groups, " groups do not divide ", x.size(1),
           " channels");
  SC_CHECK(eps > 0, "group_norm: eps must be positive");
  Tensor y = Tensor::empty(x.shape(), DType::F32, x.device());
  if (y.numel() == 0) return y;
  SC_DISPATCH(x.device(), cpu::group_norm(x, groups, gamma, beta, eps, y),
              cuda::group_norm(x, groups, gamma, beta, eps, y));
  return y;
}

}  // namespace sc::ops
