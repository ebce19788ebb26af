// The Gaussian noise of one noisy sample on the CPU, vectorized over element groups: the same bits as
// noise::normal4 (smoothing/noise.h) group by group, which the CUDA kernels call per thread.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/cpu/isa_variants.h"

namespace sc::cpu {

// z[4·i + k] = the k-th of noise::normal4(seed, image, phase, sample, first_group + i) for i < groups.
void sample_normals(uint64_t seed, uint32_t image, uint32_t phase, uint32_t sample, uint32_t first_group,
                    int64_t groups, float* z);

// The instruction-set variants this CPU runs, fastest first (sample_normals uses the first): AVX-512, AVX2,
// the baseline. Tests check each one's bits against noise::normal4.
using SampleNormalsFunction = void (*)(uint64_t, uint32_t, uint32_t, uint32_t, uint32_t, int64_t, float*);
using SampleNormalsVariant = IsaVariant<SampleNormalsFunction>;
std::vector<SampleNormalsVariant> sample_normals_variants();

}  // namespace sc::cpu
