// CUDA error checking for every runtime call and launch: the message names the statement, file and line.
// Include only from CUDA-enabled translation units.
#pragma once
#ifdef SMOOTHCUDA_HAVE_CUDA
#include <cuda_runtime.h>

#include "nn/error.h"
#include "nn/runtime.h"
#include "nn/stream.h"

namespace sc::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* stmt, const char* file, int line);
// After a launch: reports launch errors; with the debug switch on, synchronizes and reports execution errors.
void check_launch(const char* kernel, const char* file, int line);

inline cudaStream_t stream() { return static_cast<cudaStream_t>(current_stream_handle()); }

// Blocks of `threads` needed to cover n items, capped for grid-stride loops.
inline unsigned grid_for(long long n, int threads = 256, long long cap = 65535LL * 16) {
  long long b = (n + threads - 1) / threads;
  if (b < 1) b = 1;
  return static_cast<unsigned>(b < cap ? b : cap);
}

}  // namespace sc::cuda

#define SC_CUDA_CHECK(stmt)                                                              \
  do {                                                                                   \
    cudaError_t sc_err_ = (stmt);                                                        \
    if (sc_err_ != cudaSuccess) ::sc::cuda::throw_cuda_error(sc_err_, #stmt, __FILE__, __LINE__); \
  } while (0)

#define SC_CUDA_LAUNCH_CHECK(kernel_name) ::sc::cuda::check_launch(kernel_name, __FILE__, __LINE__)

#endif  // SMOOTHCUDA_HAVE_CUDA
