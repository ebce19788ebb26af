#include "kernels/gaussian_noise.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/normal_noise.h"
#include "smoothing/noise.h"

namespace sc::cpu {

void add_gaussian_noise(const Tensor& x, float sigma, NoiseKey key, uint32_t first_sample, Tensor& out) {
  const int64_t B = out.size(0), E = x.numel(), groups = (E + 3) / 4;
  constexpr int64_t kSpan = 1024;  // groups per task, so that even one large image spreads over the threads
  const int64_t spans = (groups + kSpan - 1) / kSpan;
  const float* xp = x.data<float>();
  float* op = out.data<float>();
#pragma omp parallel
  {
    std::vector<float> z(static_cast<size_t>(4 * kSpan));
#pragma omp for collapse(2) schedule(static)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t span = 0; span < spans; ++span) {
        const int64_t g0 = span * kSpan, e0 = 4 * g0, e1 = std::min(E, 4 * (g0 + kSpan));
        sample_normals(key.seed, key.image, key.phase, first_sample + static_cast<uint32_t>(b),
                       static_cast<uint32_t>(g0), std::min(kSpan, groups - g0), z.data());
        for (int64_t e = e0; e < e1; ++e)
          op[b * E + e] = noise::add(xp[e], noise::mul(sigma, z[static_cast<size_t>(e - e0)]));
      }
  }
}

}  // namespace sc::cpu
