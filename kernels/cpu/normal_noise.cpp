#include "kernels/cpu/normal_noise.h"

#include "smoothing/noise.h"

namespace sc::cpu {

namespace {

// The groups are independent and noise.h has no branches, so the loop vectorizes, Philox's 32×32→64-bit
// products included. This file is compiled with -fno-math-errno, so that sqrt needs no errno path, and with
// -fno-trapping-math, so that the selects of log_unit and sincos_turns may evaluate both sides: without it
// GCC keeps them as branches wherever the instruction set has no masked arithmetic (AVX2 and below) and the
// loop stays scalar. Neither option changes a result; each variant performs the same IEEE operations per
// element, so the bits do not depend on the CPU.
__attribute__((always_inline)) inline void normals_loop(uint64_t seed, uint32_t image, uint32_t phase,
                                                        uint32_t sample, uint32_t first_group, int64_t groups,
                                                        float* z) {
#pragma omp simd
  for (int64_t i = 0; i < groups; ++i)
    noise::normal4(seed, image, phase, sample, first_group + static_cast<uint32_t>(i), z + 4 * i);
}

__attribute__((target("avx512f"))) void normals_avx512(uint64_t seed, uint32_t image, uint32_t phase,
                                                       uint32_t sample, uint32_t first_group, int64_t groups,
                                                       float* z) {
  normals_loop(seed, image, phase, sample, first_group, groups, z);
}
__attribute__((target("avx2"))) void normals_avx2(uint64_t seed, uint32_t image, uint32_t phase,
                                                  uint32_t sample, uint32_t first_group, int64_t groups,
                                                  float* z) {
  normals_loop(seed, image, phase, sample, first_group, groups, z);
}
void normals_baseline(uint64_t seed, uint32_t image, uint32_t phase, uint32_t sample, uint32_t first_group,
                      int64_t groups, float* z) {
  normals_loop(seed, image, phase, sample, first_group, groups, z);
}

}  // namespace

std::vector<SampleNormalsVariant> sample_normals_variants() {
  return isa_variants<SampleNormalsFunction>(normals_avx512, normals_avx2, "baseline", normals_baseline);
}

void sample_normals(uint64_t seed, uint32_t image, uint32_t phase, uint32_t sample, uint32_t first_group,
                    int64_t groups, float* z) {
  static const SampleNormalsFunction fastest = sample_normals_variants().front().run;
  fastest(seed, image, phase, sample, first_group, groups, z);
}

}  // namespace sc::cpu
