#include "kernels/channel_modulate.h"
#include "kernels/per_channel_check.h"

namespace sc::cpu {

void channel_modulate(const Tensor& x, const Tensor& scale, const Tensor& shift, Tensor& y) {
  const int64_t NC = x.size(0) * x.size(1), P = plane_size(x);
  const float *xp = x.data<float>(), *sc = scale.defined() ? scale.data<float>() : nullptr, *sh = shift.data<float>();
  float* yp = y.data<float>();
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < NC; ++nc) {
    const float a = sc ? 1.0f + sc[nc] : 1.0f, b = sh[nc];
    for (int64_t p = 0; p < P; ++p) yp[nc * P + p] = xp[nc * P + p] * a + b;
  }
}

}  // namespace sc::cpu
