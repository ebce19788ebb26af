#include "kernels/cpu/normal_noise.h"

#include "smoothing/noise.h"

namespace sc::cpu {

// The groups are independent and noise.h has no branches, so the loop vectorizes (Philox's 32×32→64-bit
// products included); this file is compiled with -fno-math-errno so that sqrt needs no errno path. Each clone
// performs the same IEEE operations per element, so the results do not depend on the CPU.
__attribute__((target_clones("default", "avx2", "avx512f"))) void sample_normals(
    uint64_t seed, uint32_t image, uint32_t phase, uint32_t sample, uint32_t first_group, int64_t groups,
    float* z) {
#pragma omp simd
  for (int64_t i = 0; i < groups; ++i)
    noise::normal4(seed, image, phase, sample, first_group + static_cast<uint32_t>(i), z + 4 * i);
}

}  // namespace sc::cpu
