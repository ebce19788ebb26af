// The instruction-set variants of a CPU kernel: the same source compiled for AVX-512, AVX2 and the baseline,
// each at its own vector width, the fastest one this CPU runs chosen at first use. Tests check each variant's
// bits.
#pragma once
#include <vector>

namespace sc::cpu {

template <typename Fn>
struct IsaVariant {
  const char* name;
  Fn run;
};

// The variants this CPU runs, fastest first.
template <typename Fn>
std::vector<IsaVariant<Fn>> isa_variants(Fn avx512, Fn avx2, const char* baseline_name, Fn baseline) {
  __builtin_cpu_init();
  std::vector<IsaVariant<Fn>> out;
  if (__builtin_cpu_supports("avx512f")) out.push_back({"avx512f", avx512});
  if (__builtin_cpu_supports("avx2")) out.push_back({"avx2", avx2});
  out.push_back({baseline_name, baseline});
  return out;
}

}  // namespace sc::cpu
