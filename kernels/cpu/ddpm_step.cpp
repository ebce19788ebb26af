#include "kernels/ddpm_step.h"
#include "kernels/ddpm_step_formula.h"

namespace sc::cpu {

void ddpm_step(const Tensor& x_t, const Tensor& eps, const Tensor& v, const Tensor& z, const DdpmCoefficients& c,
               Tensor& out) {
  const float *xp = x_t.data<float>(), *ep = eps.data<float>();
  const float *vp = v.defined() ? v.data<float>() : nullptr, *zp = z.defined() ? z.data<float>() : nullptr;
  float* op = out.data<float>();
  const int64_t n = x_t.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) op[i] = ddpm_step_value(xp[i], ep[i], vp ? vp + i : nullptr, zp ? zp + i : nullptr, c);
}

}  // namespace sc::cpu
