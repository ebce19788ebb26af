#include "kernels/cuda/common.cuh"
#include "kernels/resize_bicubic.h"
#include "kernels/resize_bicubic_weights.h"

namespace sc::cuda {

namespace {
__global__ void resize_bicubic_axis_kernel(const float* x, float* y, long long n, int H, int W, int Ho, int Wo,
                                           int axis) {
  SC_GRID_STRIDE_LOOP(i, n) {
    const int c = static_cast<int>(i % Wo), r = static_cast<int>((i / Wo) % Ho);
    const long long nc = i / (static_cast<long long>(Wo) * Ho);
    float w[260];
    int first = 0;
    const int taps = cubic_taps(axis == 3 ? c : r, axis == 3 ? W : H, axis == 3 ? Wo : Ho, w, 260, &first);
    float acc = 0.0f;
    for (int j = 0; j < taps; ++j)
      acc += w[j] * (axis == 3 ? x[(nc * H + r) * W + first + j] : x[(nc * H + first + j) * W + c]);
    y[i] = acc;
  }
}
}  // namespace

void resize_bicubic_axis(const Tensor& x, int axis, Tensor& y) {
  const long long n = y.numel();
  SC_LAUNCH(grid_for(n), kThreads, 0, resize_bicubic_axis_kernel)(
      x.data<float>(), y.data<float>(), n, static_cast<int>(x.size(2)), static_cast<int>(x.size(3)),
      static_cast<int>(y.size(2)), static_cast<int>(y.size(3)), axis);
  SC_CUDA_LAUNCH_CHECK("resize_bicubic_axis_kernel");
}

}  // namespace sc::cuda
