// ddpm_step: one ancestral step of a DDPM sampler, fused. From the model's ε (and, for learned variances, its
// interpolation output v ∈ [−1, 1]) at x_t:
//   x̂0 = clip(c_x·x_t − c_eps·ε, −1, 1);  mean = m0·x̂0 + mt·x_t;
//   log σ² = (v+1)/2 · log_max + (1 − (v+1)/2) · log_min   (or log_min alone when v is undefined);
//   x_{t−1} = mean + exp(½ log σ²) · z   (z undefined: no noise, the last step).
#pragma once
#include "nn/tensor.h"

namespace sc {

struct DdpmCoefficients {
  float c_x, c_eps;    // √(1/ᾱ_t), √(1/ᾱ_t − 1)
  float m0, mt;        // posterior mean coefficients of x̂0 and x_t
  float log_min, log_max;
};

namespace ops {
Tensor ddpm_step(const Tensor& x_t, const Tensor& eps, const Tensor& v, const Tensor& z, const DdpmCoefficients& c);
}
namespace cpu {
void ddpm_step(const Tensor& x_t, const Tensor& eps, const Tensor& v, const Tensor& z, const DdpmCoefficients& c,
               Tensor& out);
}
namespace cuda {
void ddpm_step(const Tensor& x_t, const Tensor& eps, const Tensor& v, const Tensor& z, const DdpmCoefficients& c,
               Tensor& out);
}

}  // namespace sc
