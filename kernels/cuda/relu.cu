#include "kernels/cuda/common.cuh"
#include "kernels/relu.h"

namespace sc::cuda {

namespace {
__global__ void relu_kernel(const float* x, float* y, long long n) {
  SC_GRID_STRIDE_LOOP(i, n) {
    const float v = x[i];
    y[i] = (v > 0.0f || v != v) ? v : 0.0f;
  }
}

__global__ void relu_backward_kernel(const float* dy, const float* y, float* dx, long long n) {
  SC_GRID_STRIDE_LOOP(i, n) {
    dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
  }
}
}  // namespace

void relu(const Tensor& x, Tensor& y) {
  const long long n = x.numel();
  SC_LAUNCH(grid_for(n), kThreads, 0, relu_kernel)(x.data<float>(), y.data<float>(), n);
  SC_CUDA_LAUNCH_CHECK("relu_kernel");
}

void relu_backward(const Tensor& dy, const Tensor& y, Tensor& dx) {
  const long long n = y.numel();
  SC_LAUNCH(grid_for(n), kThreads, 0, relu_backward_kernel)
  (dy.data<float>(), y.data<float>(), dx.data<float>(), n);
  SC_CUDA_LAUNCH_CHECK("relu_backward_kernel");
}

}  // namespace sc::cuda
