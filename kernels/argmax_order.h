// The order argmax uses, shared by the CPU and CUDA paths: (v, i) beats (best, bi) when v is larger, or v is a
// NaN and best is not, or they tie and i is the lower index.
#pragma once
#include <cstdint>

#include "kernels/host_device.h"

namespace sc {

SC_HOST_DEVICE bool argmax_better(float v, int64_t i, float best, int64_t bi) {
  const bool v_nan = v != v, best_nan = best != best;
  if (v_nan != best_nan) return v_nan;
  if (!v_nan && v != best) return v > best;
  return i < bi;
}

}  // namespace sc
