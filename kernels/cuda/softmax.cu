// One warp per row: a max pass, a sum-of-exponentials pass, a write pass (rows are short: class scores).
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/warp_reduce.cuh"
#include "kernels/softmax.h"

namespace sc::cuda {

namespace {
__global__ void softmax_kernel(const float* x, float* y, long long N, int C, bool log) {
  const long long warps = static_cast<long long>(gridDim.x) * blockDim.x / 32;
  const int lane = threadIdx.x % 32;
  for (long long row = (blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x) / 32; row < N; row += warps) {
    const float* xi = x + row * C;
    float* yi = y + row * C;
    float m = -INFINITY;
    for (int c = lane; c < C; c += 32) m = fmaxf(m, xi[c]);
    m = warp_max(m);
    float sum = 0.0f;
    for (int c = lane; c < C; c += 32) sum += expf(xi[c] - m);
    sum = warp_sum(sum);
    if (log) {
      const float lse = logf(sum);
      for (int c = lane; c < C; c += 32) yi[c] = xi[c] - m - lse;
    } else {
      const float inv = 1.0f / sum;
      for (int c = lane; c < C; c += 32) yi[c] = expf(xi[c] - m) * inv;
    }
  }
}
}  // namespace

void softmax(const Tensor& x, bool log, Tensor& y) {
  const long long N = x.size(0);
  SC_LAUNCH(grid_for(N * 32), kThreads, 0, softmax_kernel)(
      x.data<float>(), y.data<float>(), N, static_cast<int>(x.size(1)), log);
  SC_CUDA_LAUNCH_CHECK("softmax_kernel");
}

}  // namespace sc::cuda
