#include "kernels/channel_modulate.h"
#include "kernels/cuda/common.cuh"
#include "kernels/per_channel_check.h"

namespace sc::cuda {

namespace {
__global__ void channel_modulate_kernel(const float* x, const float* scale, const float* shift, float* y, long long n,
                                        long long P) {
  SC_GRID_STRIDE_LOOP(i, n) {
    const long long nc = i / P;
    y[i] = x[i] * (scale ? 1.0f + scale[nc] : 1.0f) + shift[nc];
  }
}
}  // namespace

void channel_modulate(const Tensor& x, const Tensor& scale, const Tensor& shift, Tensor& y) {
  const long long n = x.numel();
  SC_LAUNCH(grid_for(n), kThreads, 0, channel_modulate_kernel)(
      x.data<float>(), scale.defined() ? scale.data<float>() : nullptr, shift.data<float>(), y.data<float>(), n,
      plane_size(x));
  SC_CUDA_LAUNCH_CHECK("channel_modulate_kernel");
}

}  // namespace sc::cuda
