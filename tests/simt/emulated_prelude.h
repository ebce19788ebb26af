// Included first by every emulated kernel file (emulated_kernel.cpp.in): the emulator's built-ins, then the
// kernel headers with their `cuda` namespace renamed (emulated_kernels.h). The kernel file, included after
// `#define cuda cuda_emulated`, then puts its kernels, its device helpers (common.cuh, half_types.cuh, ...)
// and its host wrapper into sc::cuda_emulated, beside the real sc::cuda ones in the same test program.
#pragma once
#include <cstring>

#include "simt.h"
// simt.h first: SC_SIMT_EMULATOR and the built-ins precede any kernel code
#include "emulated_kernels.h"

// The kernels get CPU tensors here, beside the real CUDA runtime: their device copies are host copies.
#define cudaMemcpyAsync(dst, src, bytes, kind, stream) (std::memcpy(dst, src, bytes), cudaSuccess)

// The real sc::cuda helpers the kernel files call unqualified, and what SC_CUDA_LAUNCH_CHECK and
// SC_CUDA_CHECK name once the namespace is renamed.
namespace sc::cuda_emulated {
void check_launch(const char* kernel, const char* file, int line);  // nothing to check (simt.cpp)
using ::sc::cuda::grid_for;
using ::sc::cuda::stream;
using ::sc::cuda::throw_cuda_error;
}  // namespace sc::cuda_emulated
