// Per-device cuBLAS and cuDNN handles, created on first use and bound to the current stream on each call.
#pragma once
#include <cublas_v2.h>
#include <cudnn.h>

#include "nn/cuda_check.h"

namespace sc::cuda {

cublasHandle_t cublas_handle();  // for the current device, bound to the current stream
cudnnHandle_t cudnn_handle();

[[noreturn]] void throw_cublas_error(cublasStatus_t s, const char* stmt, const char* file, int line);
[[noreturn]] void throw_cudnn_error(cudnnStatus_t s, const char* stmt, const char* file, int line);

}  // namespace sc::cuda

#define SC_CUBLAS_CHECK(stmt)                                                                         \
  do {                                                                                                \
    cublasStatus_t sc_s_ = (stmt);                                                                    \
    if (sc_s_ != CUBLAS_STATUS_SUCCESS) ::sc::cuda::throw_cublas_error(sc_s_, #stmt, __FILE__, __LINE__); \
  } while (0)

#define SC_CUDNN_CHECK(stmt)                                                                        \
  do {                                                                                              \
    cudnnStatus_t sc_s_ = (stmt);                                                                   \
    if (sc_s_ != CUDNN_STATUS_SUCCESS) ::sc::cuda::throw_cudnn_error(sc_s_, #stmt, __FILE__, __LINE__); \
  } while (0)
