#include "kernels/cuda/common.cuh"
#include "kernels/silu.h"

namespace sc::cuda {

namespace {
__global__ void silu_kernel(const float* x, float* y, long long n) {
  SC_GRID_STRIDE_LOOP(i, n) y[i] = x[i] / (1.0f + expf(-x[i]));
}
}  // namespace

void silu(const Tensor& x, Tensor& y) {
  const long long n = x.numel();
  SC_LAUNCH(grid_for(n), kThreads, 0, silu_kernel)(x.data<float>(), y.data<float>(), n);
  SC_CUDA_LAUNCH_CHECK("silu_kernel");
}

}  // namespace sc::cuda
