#include "kernels/cuda/common.cuh"
#include <cmath>

#include "kernels/timestep_embedding.h"

namespace sc::cuda {

namespace {
__global__ void timestep_embedding_kernel(const float* t, float* y, long long n, int dim, float log_period) {
  const int half = dim / 2;
  SC_GRID_STRIDE_LOOP(k, n) {
    const int i = static_cast<int>(k % dim);
    const long long row = k / dim;
    float v = 0.0f;
    if (i < 2 * half) {
      const int f = i % half;
      // Float steps as the reference (see the CPU path); exp, cos and sin in double for correctly rounded values.
      const float e = -log_period * static_cast<float>(f) / static_cast<float>(half);
      const float a = t[row] * static_cast<float>(exp(static_cast<double>(e)));
      v = static_cast<float>(i < half ? cos(static_cast<double>(a)) : sin(static_cast<double>(a)));
    }
    y[k] = v;
  }
}
}  // namespace

void timestep_embedding(const Tensor& t, double max_period, Tensor& y) {
  const long long n = y.numel();
  SC_LAUNCH(grid_for(n), kThreads, 0, timestep_embedding_kernel)(
      t.data<float>(), y.data<float>(), n, static_cast<int>(y.size(1)), static_cast<float>(std::log(max_period)));
  SC_CUDA_LAUNCH_CHECK("timestep_embedding_kernel");
}

}  // namespace sc::cuda
