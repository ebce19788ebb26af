#include <map>
#include <mutex>

#include "kernels/cuda/vendor_handles.h"

namespace sc::cuda {

namespace {
int current_device() {
  int d = 0;
  SC_CUDA_CHECK(cudaGetDevice(&d));
  return d;
}
}  // namespace

void throw_cublas_error(cublasStatus_t s, const char* stmt, const char* file, int line) {
  SC_FAIL("cuBLAS error ", cublasGetStatusName(s), " (", cublasGetStatusString(s), ") in `", stmt, "` at ", file,
          ":", line);
}

void throw_cudnn_error(cudnnStatus_t s, const char* stmt, const char* file, int line) {
  SC_FAIL("cuDNN error ", cudnnGetErrorString(s), " in `", stmt, "` at ", file, ":", line);
}

cublasHandle_t cublas_handle() {
  static std::mutex mu;
  static std::map<int, cublasHandle_t> handles;  // kept for the process: destroying at exit races the driver
  std::lock_guard<std::mutex> lock(mu);
  const int d = current_device();
  auto it = handles.find(d);
  if (it == handles.end()) {
    cublasHandle_t h;
    SC_CUBLAS_CHECK(cublasCreate(&h));
    // Plain fp32 arithmetic: no TF32 tensor cores, so results compare with the CPU at fp32 tolerance.
    SC_CUBLAS_CHECK(cublasSetMathMode(h, CUBLAS_PEDANTIC_MATH));
    it = handles.emplace(d, h).first;
  }
  SC_CUBLAS_CHECK(cublasSetStream(it->second, stream()));
  return it->second;
}

cudnnHandle_t cudnn_handle() {
  static std::mutex mu;
  static std::map<int, cudnnHandle_t> handles;
  std::lock_guard<std::mutex> lock(mu);
  const int d = current_device();
  auto it = handles.find(d);
  if (it == handles.end()) {
    cudnnHandle_t h;
    SC_CUDNN_CHECK(cudnnCreate(&h));
    it = handles.emplace(d, h).first;
  }
  SC_CUDNN_CHECK(cudnnSetStream(it->second, stream()));
  return it->second;
}

}  // namespace sc::cuda
