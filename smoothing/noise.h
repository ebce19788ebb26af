// Counter-based Gaussian noise shared by the CPU and CUDA paths: Philox4x32-10 (Salmon et al. 2011) turns the
// counter (element group, sample index, image index, phase) under the key (seed) into four 32-bit words, and
// Box–Muller turns two words into two standard normals. Every operation is IEEE-rounded the same way on both
// devices (no fused multiply-add, no library transcendentals: log and sin/cos are evaluated here by
// polynomials), so noise(seed, image, phase, sample, element) has the same bits everywhere and any sample can be
// regenerated from its indices.
//
// Resolution: u1 has 24 bits, so |z| ≤ 5.77; the truncated tail has mass 8e-9, far below any α used.
#pragma once
#include <cstdint>
#include <cstring>

#include "kernels/host_device.h"

namespace sc::noise {

enum Phase : uint32_t {
  kSelection = 0,
  kEstimation = 1,
  kAttack = 2,
  kLocal = 3,
  kDiffusionSampling = 4,
  kConfidence = 5,    // smoothed soft scores (Smooth::mean_scores in `ood --sigma`)
  kTraining = 6,      // Gaussian data augmentation while training (training/trainer.h)
  kAugmentation = 7,  // the crops and flips of training (training/augment.h): raw Philox words, not normals
  kTrainingEvaluation = 8,  // the noise of the test images between training epochs
  kRandomizedModel = 9,     // a randomized classifier's own noise (nn/models/noisy_network.h)
};

// Rounded arithmetic that the device compiler may not contract into FMA.
SC_HOST_DEVICE_FORCEINLINE float mul(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
SC_HOST_DEVICE_FORCEINLINE float add(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
SC_HOST_DEVICE_FORCEINLINE float sub(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}
SC_HOST_DEVICE_FORCEINLINE float div(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}
SC_HOST_DEVICE_FORCEINLINE float sqrt_rn(float a) {
#ifdef __CUDA_ARCH__
  return __fsqrt_rn(a);
#else
  return __builtin_sqrtf(a);
#endif
}

SC_HOST_DEVICE_FORCEINLINE void philox4x32_10(const uint32_t counter[4], const uint32_t key[2],
                                              uint32_t out[4]) {
  uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3], k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0, p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += 0x9E3779B9u;  // Weyl sequence key schedule
    k1 += 0xBB67AE85u;
  }
  out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

// ln(u) for u in (0, 1]: u = m·2^e with m in [√½, √2), ln m = 2·atanh(s), s = (m−1)/(m+1), |s| ≤ 0.172.
SC_HOST_DEVICE_FORCEINLINE float log_unit(float u) {
  uint32_t bits;
  memcpy(&bits, &u, 4);
  int e = static_cast<int>(bits >> 23) - 127;
  bits = (bits & 0x7fffffu) | 0x3f800000u;
  float m;
  memcpy(&m, &bits, 4);
  const bool high = m > 1.41421356f;  // selects, not branches, so that CPU loops over groups vectorize
  m = high ? mul(m, 0.5f) : m;
  e += high;
  const float s = div(sub(m, 1.0f), add(m, 1.0f)), s2 = mul(s, s);
  float p = add(0.222222222f, mul(s2, 0.181818182f));  // 2/9 + 2/11 s²
  p = add(0.285714286f, mul(s2, p));                   // 2/7
  p = add(0.4f, mul(s2, p));                           // 2/5
  p = add(0.666666667f, mul(s2, p));                   // 2/3
  p = add(2.0f, mul(s2, p));
  const float ef = static_cast<float>(e);
  // e·ln2 with ln2 split in a head exact in float and a tail.
  return add(mul(ef, 0.693145752f), add(mul(ef, 1.42860677e-06f), mul(s, p)));
}

// sin and cos of 2π·t for t in [0, 1): reduce to the nearest quarter turn, then Taylor polynomials on
// [−π/4, π/4] (error below 2e-9).
SC_HOST_DEVICE_FORCEINLINE void sincos_turns(float t, float& s, float& c) {
  const int q = static_cast<int>(add(mul(t, 4.0f), 0.5f));
  const float a = mul(sub(t, mul(static_cast<float>(q), 0.25f)), 6.28318531f), a2 = mul(a, a);
  float ps = add(-1.98412698e-4f, mul(a2, 2.75573192e-6f));  // −1/5040 + a²/362880
  ps = add(8.33333333e-3f, mul(a2, ps));
  ps = add(-0.166666667f, mul(a2, ps));
  const float sn = add(a, mul(mul(a, a2), ps));
  float pc = add(-1.38888889e-3f, mul(a2, 2.48015873e-5f));  // −1/720 + a²/40320
  pc = add(4.16666667e-2f, mul(a2, pc));
  pc = add(-0.5f, mul(a2, pc));
  const float cs = add(1.0f, mul(a2, pc));
  // Quarter q mod 4 → (sin, cos) = (sn, cs), (cs, −sn), (−sn, −cs), (−cs, sn), as selects.
  const bool odd = q & 1;
  const float s0 = odd ? cs : sn, c0 = odd ? sn : cs;
  s = (q & 2) ? -s0 : s0;
  c = ((q + 1) & 2) ? -c0 : c0;
}

// Four standard normals for element group `group` (elements 4·group … 4·group+3) of one noisy sample.
SC_HOST_DEVICE_FORCEINLINE void normal4(uint64_t seed, uint32_t image, uint32_t phase, uint32_t sample,
                                        uint32_t group, float z[4]) {
  const uint32_t counter[4] = {group, sample, image, phase};
  const uint32_t key[2] = {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
  uint32_t r[4];
  philox4x32_10(counter, key, r);
  for (int pair = 0; pair < 2; ++pair) {
    const float u1 = mul(static_cast<float>((r[2 * pair] >> 8) + 1u), 5.96046448e-8f);  // (0, 1], step 2^-24
    const float u2 = mul(static_cast<float>(r[2 * pair + 1] >> 8), 5.96046448e-8f);     // [0, 1)
    const float radius = sqrt_rn(mul(-2.0f, log_unit(u1)));
    float s, c;
    sincos_turns(u2, s, c);
    z[2 * pair] = mul(radius, c);
    z[2 * pair + 1] = mul(radius, s);
  }
}

}  // namespace sc::noise
