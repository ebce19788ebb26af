// Rounding of a float to TF32 (8-bit exponent, 10-bit mantissa), to nearest with ties away from zero: what
// the tensor cores' TF32 products see (cvt.rna.tf32.f32). Shared by the CPU reference and the CUDA kernels.
#pragma once
#include <cstdint>
#include <cstring>

#include "kernels/host_device.h"

namespace sc {

SC_HOST_DEVICE_FORCEINLINE float round_tf32(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  if ((u & 0x7f800000u) != 0x7f800000u) u = (u + 0x1000u) & 0xffffe000u;  // Inf and NaN pass unchanged
  float r;
  memcpy(&r, &u, 4);
  return r;
}

}  // namespace sc
