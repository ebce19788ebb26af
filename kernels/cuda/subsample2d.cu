#include "kernels/cuda/common.cuh"
#include "kernels/subsample2d.h"

namespace sc::cuda {

namespace {
__global__ void subsample2d_kernel(const float* x, float* y, long long n, int H, int W, int Ho, int Wo, int s) {
  SC_GRID_STRIDE_LOOP(i, n) {
    const int j = static_cast<int>(i % Wo), r = static_cast<int>((i / Wo) % Ho);
    const long long nc = i / (static_cast<long long>(Wo) * Ho);
    y[i] = x[(nc * H + static_cast<long long>(r) * s) * W + static_cast<long long>(j) * s];
  }
}

__global__ void subsample2d_backward_kernel(const float* dy, float* dx, long long n, int H, int W, int Ho,
                                            int Wo, int s) {
  SC_GRID_STRIDE_LOOP(i, n) {
    const int w = static_cast<int>(i % W), h = static_cast<int>((i / W) % H);
    const long long nc = i / (static_cast<long long>(W) * H);
    dx[i] = (h % s == 0 && w % s == 0) ? dy[(nc * Ho + h / s) * Wo + w / s] : 0.0f;
  }
}
}  // namespace

void subsample2d(const Tensor& x, int64_t stride, Tensor& y) {
  const long long n = y.numel();
  SC_LAUNCH(grid_for(n), kThreads, 0, subsample2d_kernel)(
      x.data<float>(), y.data<float>(), n, static_cast<int>(x.size(2)), static_cast<int>(x.size(3)),
      static_cast<int>(y.size(2)), static_cast<int>(y.size(3)), static_cast<int>(stride));
  SC_CUDA_LAUNCH_CHECK("subsample2d_kernel");
}

void subsample2d_backward(const Tensor& dy, int64_t stride, Tensor& dx) {
  const long long n = dx.numel();
  SC_LAUNCH(grid_for(n), kThreads, 0, subsample2d_backward_kernel)
  (dy.data<float>(), dx.data<float>(), n, static_cast<int>(dx.size(2)), static_cast<int>(dx.size(3)),
   static_cast<int>(dy.size(2)), static_cast<int>(dy.size(3)), static_cast<int>(stride));
  SC_CUDA_LAUNCH_CHECK("subsample2d_backward_kernel");
}

}  // namespace sc::cuda
