// The Gaussian noise of one noisy sample on the CPU, vectorized over element groups: the same bits as
// noise::normal4 (smoothing/noise.h) group by group, which the CUDA kernels call per thread.
#pragma once
#include <cstdint>

namespace sc::cpu {

// z[4·i + k] = the k-th of noise::normal4(seed, image, phase, sample, first_group + i) for i < groups.
void sample_normals(uint64_t seed, uint32_t image, uint32_t phase, uint32_t sample, uint32_t first_group,
                    int64_t groups, float* z);

}  // namespace sc::cpu
