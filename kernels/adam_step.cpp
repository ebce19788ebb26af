#include "kernels/adam_step.h"

#include <cmath>
#include <utility>

#include "kernels/dispatch.h"

namespace sc {

AdamScalars adam_scalars(const AdamParams& p, int64_t step) {
  const double t = static_cast<double>(step);
  const double correction1 = 1.0 - std::pow(p.beta1, t), correction2 = 1.0 - std::pow(p.beta2, t);
  return {static_cast<float>(p.lr / correction1),
          static_cast<float>(p.beta1),
          static_cast<float>(1.0 - p.beta1),
          static_cast<float>(p.beta2),
          static_cast<float>(1.0 - p.beta2),
          static_cast<float>(std::sqrt(correction2)),
          static_cast<float>(p.eps),
          static_cast<float>(p.weight_decay)};
}

namespace ops {

void adam_step(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq, int64_t step,
               const AdamParams& p) {
  const char* op = "adam_step";
  SC_CHECK(std::isfinite(p.lr) && p.lr >= 0, op, ": the learning rate must be finite and ≥ 0, got ", p.lr);
  SC_CHECK(p.beta1 >= 0 && p.beta1 < 1 && p.beta2 >= 0 && p.beta2 < 1, op, ": betas must be in [0, 1), got ",
           p.beta1, " and ", p.beta2);
  SC_CHECK(std::isfinite(p.eps) && p.eps > 0, op, ": eps must be finite and positive, got ", p.eps);
  SC_CHECK(std::isfinite(p.weight_decay) && p.weight_decay >= 0, op,
           ": weight decay must be finite and ≥ 0, got ", p.weight_decay);
  SC_CHECK(step >= 1, op, ": steps are numbered from 1, got ", step);
  const std::pair<const Tensor*, const char*> all[] = {
      {&param, "param"}, {&grad, "grad"}, {&exp_avg, "exp_avg"}, {&exp_avg_sq, "exp_avg_sq"}};
  for (const auto& [t, what] : all) {
    check_dtype(*t, DType::F32, op, what);
    check_contiguous(*t, op, what);
    check_same_device(param, *t, op);
    SC_CHECK(t->shape() == param.shape(), op, ": ", what, " ", t->describe(), " and param ", param.describe(),
             " differ in shape");
  }
  if (param.numel() == 0) return;
  const AdamScalars s = adam_scalars(p, step);
  SC_DISPATCH(param.device(), cpu::adam_step(param, grad, exp_avg, exp_avg_sq, s),
              cuda::adam_step(param, grad, exp_avg, exp_avg_sq, s));
}

}  // namespace ops
}  // namespace sc
