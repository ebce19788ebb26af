#include "kernels/cuda/common.cuh"
#include "kernels/pad_channels.h"

namespace sc::cuda {

namespace {
__global__ void pad_channels_kernel(const float* x, float* y, long long n, int C, int Cy, int before, long long P) {
  SC_GRID_STRIDE_LOOP(i, n) {
    const long long pix = i % P, nc = i / P;
    const int c = static_cast<int>(nc % Cy) - before;
    const long long b = nc / Cy;
    y[i] = (c >= 0 && c < C) ? x[(b * C + c) * P + pix] : 0.0f;
  }
}
}  // namespace

void pad_channels(const Tensor& x, int64_t before, Tensor& y) {
  const long long n = y.numel();
  SC_LAUNCH(grid_for(n), kThreads, 0, pad_channels_kernel)(
      x.data<float>(), y.data<float>(), n, static_cast<int>(x.size(1)), static_cast<int>(y.size(1)),
      static_cast<int>(before), y.size(2) * y.size(3));
  SC_CUDA_LAUNCH_CHECK("pad_channels_kernel");
}

}  // namespace sc::cuda
