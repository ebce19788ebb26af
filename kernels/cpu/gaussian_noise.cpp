#include "kernels/gaussian_noise.h"
#include "smoothing/noise.h"

namespace sc::cpu {

void add_gaussian_noise(const Tensor& x, float sigma, NoiseKey key, uint32_t first_sample, Tensor& out) {
  const int64_t B = out.size(0), E = x.numel(), groups = (E + 3) / 4;
  const float* xp = x.data<float>();
  float* op = out.data<float>();
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t g = 0; g < groups; ++g) {
      float z[4];
      noise::normal4(key.seed, key.image, key.phase, first_sample + static_cast<uint32_t>(b), static_cast<uint32_t>(g), z);
      for (int64_t k = 0; k < 4 && 4 * g + k < E; ++k)
        op[b * E + 4 * g + k] = noise::add(xp[4 * g + k], noise::mul(sigma, z[k]));
    }
}

}  // namespace sc::cpu
