#include "kernels/channel_normalize.h"
#include "kernels/cuda/common.cuh"
#include "kernels/per_channel_check.h"

namespace sc::cuda {

namespace {
__global__ void channel_normalize_kernel(const float* x, const float* m, const float* s, float* y, long long n, int C,
                                         long long P) {
  SC_GRID_STRIDE_LOOP(i, n) {
    const int c = static_cast<int>((i / P) % C);
    y[i] = (x[i] - m[c]) / s[c];
  }
}
}  // namespace

void channel_normalize(const Tensor& x, const Tensor& mean, const Tensor& std, Tensor& y) {
  const long long n = x.numel();
  SC_LAUNCH(grid_for(n), kThreads, 0, channel_normalize_kernel)(
      x.data<float>(), mean.data<float>(), std.data<float>(), y.data<float>(), n, static_cast<int>(x.size(1)),
      plane_size(x));
  SC_CUDA_LAUNCH_CHECK("channel_normalize_kernel");
}

}  // namespace sc::cuda
