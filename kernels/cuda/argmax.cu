// One warp per row: each lane keeps its best (value, index), then a shuffle tree merges with argmax_better.
#include "kernels/argmax.h"
#include "kernels/argmax_order.h"
#include "kernels/cuda/common.cuh"

namespace sc::cuda {

namespace {
__global__ void argmax_kernel(const float* x, int64_t* y, long long N, int C) {
  const long long warps = static_cast<long long>(gridDim.x) * blockDim.x / 32;
  const int lane = threadIdx.x % 32;
  for (long long row = (blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x) / 32; row < N; row += warps) {
    const float* xi = x + row * C;
    float best = lane < C ? xi[lane] : -INFINITY;
    int64_t bi = lane < C ? lane : C;  // past-the-end index loses every tie
    for (int c = lane + 32; c < C; c += 32)
      if (argmax_better(xi[c], c, best, bi)) {
        best = xi[c];
        bi = c;
      }
    for (int off = 16; off > 0; off /= 2) {
      const float ov = __shfl_xor_sync(0xffffffffu, best, off);
      const int64_t oi = __shfl_xor_sync(0xffffffffu, bi, off);
      if (argmax_better(ov, oi, best, bi)) {
        best = ov;
        bi = oi;
      }
    }
    if (lane == 0) y[row] = bi;
  }
}
}  // namespace

void argmax(const Tensor& x, Tensor& y) {
  const long long N = x.size(0);
  SC_LAUNCH(grid_for(N * 32), kThreads, 0, argmax_kernel)(
      x.data<float>(), y.data<int64_t>(), N, static_cast<int>(x.size(1)));
  SC_CUDA_LAUNCH_CHECK("argmax_kernel");
}

}  // namespace sc::cuda
