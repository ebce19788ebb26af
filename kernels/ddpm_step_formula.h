// The per-element formula of ddpm_step, shared by the CPU and CUDA paths.
#pragma once
#include <cmath>

#include "kernels/ddpm_step.h"
#include "kernels/host_device.h"

namespace sc {

SC_HOST_DEVICE float ddpm_step_value(float x, float eps, const float* v, const float* z,
                                     const DdpmCoefficients& c) {
  float x0 = c.c_x * x - c.c_eps * eps;
  x0 = x0 < -1.0f ? -1.0f : (x0 > 1.0f ? 1.0f : x0);
  const float mean = c.m0 * x0 + c.mt * x;
  if (!z) return mean;
  float log_var = c.log_min;
  if (v) {
    const float frac = (*v + 1.0f) * 0.5f;
    log_var = frac * c.log_max + (1.0f - frac) * c.log_min;
  }
  return mean + expf(0.5f * log_var) * *z;
}

}  // namespace sc
