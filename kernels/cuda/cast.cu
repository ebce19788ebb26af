#include "kernels/cast.h"
#include "kernels/cuda/common.cuh"

namespace sc::cuda {

namespace {
template <typename S, typename D>
__global__ void cast_kernel(const S* src, D* dst, long long n) {
  SC_GRID_STRIDE_LOOP(i, n) dst[i] = from_double<D>(to_double(src[i]));
}
}  // namespace

void cast(const Tensor& src, Tensor& dst) {
  const long long n = src.numel();
  if (n == 0) return;
  visit_dtype(src.dtype(), [&]<typename S>() {
    visit_dtype(dst.dtype(), [&]<typename D>() {
      SC_LAUNCH(grid_for(n), kThreads, 0, cast_kernel<S, D>)(src.data<S>(), dst.data<D>(), n);
      SC_CUDA_LAUNCH_CHECK("cast_kernel");
    });
  });
}

}  // namespace sc::cuda
