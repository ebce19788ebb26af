#include "kernels/batch_norm.h"
#include "kernels/cuda/common.cuh"
#include "kernels/per_channel_check.h"

namespace sc::cuda {

namespace {
__global__ void batch_norm_kernel(const float* x, const float* g, const float* b, const float* m, const float* v,
                                  float eps, float* y, long long n, int C, long long P) {
  SC_GRID_STRIDE_LOOP(i, n) {
    const int c = static_cast<int>((i / P) % C);
    y[i] = (x[i] - m[c]) * rsqrtf(v[c] + eps) * g[c] + b[c];
  }
}
}  // namespace

void batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean, const Tensor& var,
                double eps, Tensor& y) {
  const long long n = x.numel();
  SC_LAUNCH(grid_for(n), kThreads, 0, batch_norm_kernel)(
      x.data<float>(), gamma.data<float>(), beta.data<float>(), mean.data<float>(), var.data<float>(),
      static_cast<float>(eps), y.data<float>(), n, static_cast<int>(x.size(1)), plane_size(x));
  SC_CUDA_LAUNCH_CHECK("batch_norm_kernel");
}

}  // namespace sc::cuda
