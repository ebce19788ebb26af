#include "kernels/cuda/common.cuh"
#include "kernels/cuda/half_types.cuh"
#include "kernels/float_dispatch.h"
#include "kernels/gelu.h"
#include "kernels/gelu_formula.h"

namespace sc::cuda {

namespace {

template <typename T>
__global__ void gelu_kernel(const T* x, T* y, long long n) {
  SC_GRID_STRIDE_LOOP(i, n) {
    store_f32(y + i, gelu_value(load_f32(x + i)));
  }
}

__global__ void gelu_backward_kernel(const float* dy, const float* x, float* dx, long long n) {
  SC_GRID_STRIDE_LOOP(i, n) {
    dx[i] = dy[i] * gelu_derivative(x[i]);
  }
}
}  // namespace

void gelu(const Tensor& x, Tensor& y) {
  const long long n = x.numel();
  visit_float_storage(x.dtype(), "gelu", [&](auto t) {
    using T = decltype(t);
    SC_LAUNCH(grid_for(n), kThreads, 0, gelu_kernel<T>)(x.data<T>(), y.data<T>(), n);
  });
  SC_CUDA_LAUNCH_CHECK("gelu_kernel");
}

void gelu_backward(const Tensor& dy, const Tensor& x, Tensor& dx) {
  const long long n = x.numel();
  SC_LAUNCH(grid_for(n), kThreads, 0, gelu_backward_kernel)
  (dy.data<float>(), x.data<float>(), dx.data<float>(), n);
  SC_CUDA_LAUNCH_CHECK("gelu_backward_kernel");
}

}  // namespace sc::cuda
