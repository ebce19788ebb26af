// The exact (erf) GELU of one value and its derivative, shared by the gelu op (forward and backward) and
// fused_conv's epilogue on the CPU and CUDA: GELU(v) = v·Φ(v) = ½·v·(1 + erf(v/√2)), computed in float as
// PyTorch's F.gelu does for float inputs; GELU'(v) = Φ(v) + v·φ(v), φ(v) = e^(−v²/2)/√(2π).
#pragma once
#include <cmath>

#include "kernels/host_device.h"

namespace sc {

constexpr float kGeluInvSqrt2 = 0.70710678118654752f, kGeluInvSqrt2Pi = 0.39894228040143268f;

SC_HOST_DEVICE_FORCEINLINE float gelu_value(float v) {
  return 0.5f * v * (1.0f + erff(v * kGeluInvSqrt2));
}

SC_HOST_DEVICE_FORCEINLINE float gelu_derivative(float v) {
  return 0.5f * (1.0f + erff(v * kGeluInvSqrt2)) + v * kGeluInvSqrt2Pi * expf(-0.5f * v * v);
}

}  // namespace sc
