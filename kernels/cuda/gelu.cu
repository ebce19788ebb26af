#include "kernels/cuda/common.cuh"
#include "kernels/gelu.h"

namespace sc::cuda {

namespace {
constexpr float kInvSqrt2 = 0.70710678118654752f, kInvSqrt2Pi = 0.39894228040143268f;

__global__ void gelu_kernel(const float* x, float* y, long long n) {
  SC_GRID_STRIDE_LOOP(i, n) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * kInvSqrt2));
}

__global__ void gelu_backward_kernel(const float* dy, const float* x, float* dx, long long n) {
  SC_GRID_STRIDE_LOOP(i, n) {
    const float v = x[i];
    dx[i] = dy[i] * (0.5f * (1.0f + erff(v * kInvSqrt2)) + v * kInvSqrt2Pi * expf(-0.5f * v * v));
  }
}
}  // namespace

void gelu(const Tensor& x, Tensor& y) {
  const long long n = x.numel();
  SC_LAUNCH(grid_for(n), kThreads, 0, gelu_kernel)(x.data<float>(), y.data<float>(), n);
  SC_CUDA_LAUNCH_CHECK("gelu_kernel");
}

void gelu_backward(const Tensor& dy, const Tensor& x, Tensor& dx) {
  const long long n = x.numel();
  SC_LAUNCH(grid_for(n), kThreads, 0, gelu_backward_kernel)
  (dy.data<float>(), x.data<float>(), dx.data<float>(), n);
  SC_CUDA_LAUNCH_CHECK("gelu_backward_kernel");
}

}  // namespace sc::cuda
