// Device dispatch for op front ends: the CPU reference, or the CUDA kernel on the tensor's device.
// In a CPU-only build a CUDA tensor cannot exist, so the CUDA branch fails with the build's reason.
#pragma once
#include "nn/device.h"
#include "nn/error.h"
#include "nn/runtime.h"

namespace sc::cuda {
// Makes `device` current for the launches that follow (defined in kernels/cuda/device_guard.cu).
void use_device(int device);
}  // namespace sc::cuda

#ifdef SMOOTHCUDA_HAVE_CUDA
#define SC_DISPATCH(device, cpu_call, cuda_call) \
  do {                                           \
    if ((device).is_cpu()) {                     \
      cpu_call;                                  \
    } else {                                     \
      ::sc::cuda::use_device((device).index);    \
      cuda_call;                                 \
    }                                            \
  } while (0)
#else
#define SC_DISPATCH(device, cpu_call, cuda_call)                                          \
  do {                                                                                    \
    if ((device).is_cpu()) {                                                              \
      cpu_call;                                                                           \
    } else {                                                                              \
      SC_FAIL("cannot run on ", (device).str(), ": ", ::sc::cuda_unavailable_reason());   \
    }                                                                                     \
  } while (0)
#endif
