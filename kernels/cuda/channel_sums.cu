// One block per channel, each thread summing a strided share of the channel's N·P elements in double.
#include "kernels/channel_sums.h"
#include "kernels/cuda/channel_values.cuh"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/warp_reduce.cuh"

namespace sc::cuda {

namespace {
__global__ void __launch_bounds__(kThreads) channel_sums_kernel(const float* x, float* s, ChannelValues v) {
  __shared__ double scratch[32];
  const int c = blockIdx.x;
  double sum = 0.0;
  for (long long j = threadIdx.x; j < v.count; j += blockDim.x) sum += x[v.index(c, j)];
  sum = block_sum(sum, scratch);
  if (threadIdx.x == 0) s[c] = static_cast<float>(sum);
}
}  // namespace

void channel_sums(const Tensor& x, Tensor& s) {
  const ChannelValues v = channel_values(x);
  SC_LAUNCH(v.C, kThreads, 0, channel_sums_kernel)(x.data<float>(), s.data<float>(), v);
  SC_CUDA_LAUNCH_CHECK("channel_sums_kernel");
}

}  // namespace sc::cuda
