// One thread per (sample, group of four elements): one Philox call gives the four normals.
#include "kernels/cuda/common.cuh"
#include "kernels/gaussian_noise.h"
#include "smoothing/noise.h"

namespace sc::cuda {

namespace {
__global__ void add_gaussian_noise_kernel(const float* x, float* out, long long E, long long groups, long long total,
                                          float sigma, NoiseKey key, uint32_t first_sample) {
  SC_GRID_STRIDE_LOOP(i, total) {
    const long long b = i / groups, g = i % groups;
    float z[4];
    noise::normal4(key.seed, key.image, key.phase, first_sample + static_cast<uint32_t>(b), static_cast<uint32_t>(g), z);
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const long long e = 4 * g + k;
      if (e < E) out[b * E + e] = noise::add(x[e], noise::mul(sigma, z[k]));
    }
  }
}
}  // namespace

void add_gaussian_noise(const Tensor& x, float sigma, NoiseKey key, uint32_t first_sample, Tensor& out) {
  const long long E = x.numel(), groups = (E + 3) / 4, total = out.size(0) * groups;
  SC_LAUNCH(grid_for(total), kThreads, 0, add_gaussian_noise_kernel)(
      x.data<float>(), out.data<float>(), E, groups, total, sigma, key, first_sample);
  SC_CUDA_LAUNCH_CHECK("add_gaussian_noise_kernel");
}

}  // namespace sc::cuda
