// One warp per output cell: lanes stride over the window and a shuffle tree sums, so a global pool over a
// large plane is read coalesced.
#include "kernels/adaptive_avg_pool2d.h"
#include "kernels/cuda/common.cuh"

namespace sc::cuda {

namespace {
__global__ void adaptive_avg_pool2d_kernel(const float* x, float* y, long long cells, int H, int W, int Ho, int Wo) {
  const long long warp = (blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  const long long warps = static_cast<long long>(gridDim.x) * blockDim.x / 32;
  for (long long c = warp; c < cells; c += warps) {
    const int j = static_cast<int>(c % Wo), i = static_cast<int>((c / Wo) % Ho);
    const long long nc = c / (static_cast<long long>(Wo) * Ho);
    const int h0 = i * H / Ho, h1 = ((i + 1) * H + Ho - 1) / Ho;
    const int w0 = j * W / Wo, w1 = ((j + 1) * W + Wo - 1) / Wo;
    const int ww = w1 - w0, count = (h1 - h0) * ww;
    float acc = 0.0f;
    for (int k = lane; k < count; k += 32) acc += x[(nc * H + h0 + k / ww) * W + w0 + k % ww];
    for (int off = 16; off > 0; off /= 2) acc += __shfl_down_sync(0xffffffffu, acc, off);
    if (lane == 0) y[c] = acc / static_cast<float>(count);
  }
}

// A thread per input element adds the dy of every cell whose window holds it (cells overlap only where the
// sizes do not divide, so the loops are short).
__global__ void adaptive_avg_pool2d_backward_kernel(const float* dy, float* dx, long long n, int H, int W,
                                                    int Ho, int Wo) {
  SC_GRID_STRIDE_LOOP(e, n) {
    const int w = static_cast<int>(e % W), h = static_cast<int>((e / W) % H);
    const long long nc = e / (static_cast<long long>(W) * H);
    float acc = 0.0f;
    for (int i = h * Ho / H; i < Ho && i * H / Ho <= h; ++i) {
      const int h0 = i * H / Ho, h1 = ((i + 1) * H + Ho - 1) / Ho;
      if (h < h0 || h >= h1) continue;
      for (int j = w * Wo / W; j < Wo && j * W / Wo <= w; ++j) {
        const int w0 = j * W / Wo, w1 = ((j + 1) * W + Wo - 1) / Wo;
        if (w < w0 || w >= w1) continue;
        acc += dy[(nc * Ho + i) * Wo + j] / static_cast<float>((h1 - h0) * (w1 - w0));
      }
    }
    dx[e] = acc;
  }
}
}  // namespace

void adaptive_avg_pool2d(const Tensor& x, Tensor& y) {
  const long long cells = y.numel();
  SC_LAUNCH(grid_for(cells * 32), kThreads, 0, adaptive_avg_pool2d_kernel)(
      x.data<float>(), y.data<float>(), cells, static_cast<int>(x.size(2)), static_cast<int>(x.size(3)),
      static_cast<int>(y.size(2)), static_cast<int>(y.size(3)));
  SC_CUDA_LAUNCH_CHECK("adaptive_avg_pool2d_kernel");
}

void adaptive_avg_pool2d_backward(const Tensor& dy, Tensor& dx) {
  const long long n = dx.numel();
  SC_LAUNCH(grid_for(n), kThreads, 0, adaptive_avg_pool2d_backward_kernel)
  (dy.data<float>(), dx.data<float>(), n, static_cast<int>(dx.size(2)), static_cast<int>(dx.size(3)),
   static_cast<int>(dy.size(2)), static_cast<int>(dy.size(3)));
  SC_CUDA_LAUNCH_CHECK("adaptive_avg_pool2d_backward_kernel");
}

}  // namespace sc::cuda
