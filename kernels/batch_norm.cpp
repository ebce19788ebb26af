#include "kernels/batch_norm.h"

#include "kernels/dispatch.h"
#include "kernels/per_channel_check.h"

namespace sc::ops {

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean, const Tensor& var,
                  double eps) {
  check_per_channel(x, {{&gamma, "weight"}, {&beta, "bias"}, {&mean, "running_mean"}, {&var, "running_var"}},
                    "batch_norm");
  SC_CHECK(eps > 0, "batch_norm: eps must be positive, got ", eps);
  Tensor y = Tensor::empty(x.shape(), DType::F32, x.device());
  if (y.numel() == 0) return y;
  SC_DISPATCH(x.device(), cpu::batch_norm(x, gamma, beta, mean, var, eps, y),
              cuda::batch_norm(x, gamma, beta, mean, var, eps, y));
  return y;
}

}  // namespace sc::ops
