// add_gaussian_noise: out[b] = x + sigma · noise(seed, image, phase, first_sample + b, ·) for b < batch, the
// noisy copies of one image that randomized smoothing classifies. Noise from smoothing/noise.h: the same bits on
// the CPU and on CUDA.
#pragma once
#include "nn/tensor.h"

namespace sc {

struct NoiseKey {
  uint64_t seed = 0;
  uint32_t image = 0;  // dataset index of the image
  uint32_t phase = 0;  // noise::Phase
};

namespace ops {
// x: one image (any shape, contiguous float32). Returns [batch, x.shape...].
Tensor add_gaussian_noise(const Tensor& x, int64_t batch, float sigma, NoiseKey key, uint32_t first_sample);
}  // namespace ops
namespace cpu {
void add_gaussian_noise(const Tensor& x, float sigma, NoiseKey key, uint32_t first_sample, Tensor& out);
}
namespace cuda {
void add_gaussian_noise(const Tensor& x, float sigma, NoiseKey key, uint32_t first_sample, Tensor& out);
}

}  // namespace sc
