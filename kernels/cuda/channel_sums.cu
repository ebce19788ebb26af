// One block per channel, each thread summing a strided share of the channel's N·P elements in double.
#include "kernels/channel_sums.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/warp_reduce.cuh"
#include "kernels/per_channel_check.h"

namespace sc::cuda {

namespace {
__global__ void __launch_bounds__(kThreads)
    channel_sums_kernel(const float* x, float* s, int C, long long P, long long count) {
  __shared__ double scratch[32];
  const int c = blockIdx.x;
  double sum = 0.0;
  for (long long j = threadIdx.x; j < count; j += blockDim.x) sum += x[(j / P * C + c) * P + j % P];
  sum = block_sum(sum, scratch);
  if (threadIdx.x == 0) s[c] = static_cast<float>(sum);
}
}  // namespace

void channel_sums(const Tensor& x, Tensor& s) {
  const int C = static_cast<int>(x.size(1));
  const long long P = plane_size(x);
  SC_LAUNCH(C, kThreads, 0, channel_sums_kernel)(x.data<float>(), s.data<float>(), C, P, x.size(0) * P);
  SC_CUDA_LAUNCH_CHECK("channel_sums_kernel");
}

}  // namespace sc::cuda
