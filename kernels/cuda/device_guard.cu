#include "kernels/dispatch.h"
#include "nn/cuda_check.h"

namespace sc::cuda {

void use_device(int device) {
  thread_local int current = -1;
  if (device == current) return;
  require_cuda_device(device);
  SC_CUDA_CHECK(cudaSetDevice(device));
  current = device;
}

}  // namespace sc::cuda
