// The exact (erf) GELU of one value, shared by the gelu op and fused_conv's epilogue on the CPU and CUDA:
// GELU(v) = v·Φ(v) = ½·v·(1 + erf(v/√2)), computed in float as PyTorch's F.gelu does for float inputs.
#pragma once
#include <cmath>

#include "kernels/host_device.h"

namespace sc {

constexpr float kGeluInvSqrt2 = 0.70710678118654752f;

SC_HOST_DEVICE_FORCEINLINE float gelu_value(float v) {
  return 0.5f * v * (1.0f + erff(v * kGeluInvSqrt2));
}

}  // namespace sc
