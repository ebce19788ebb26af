// One block per channel: each thread walks a strided share of the channel's N·P values, sums go through
// block_sum in double. The statistics take two passes (the mean, then the squared deviations); the backward
// pass sums Σdy and Σdy·(x − μ), then writes dx for the same channel. A channel's values are NCHW planes, so
// a thread's loads are coalesced within each plane.
#include "kernels/batch_norm_training.h"
#include "kernels/cuda/channel_values.cuh"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/warp_reduce.cuh"

namespace sc::cuda {

namespace {
__global__ void __launch_bounds__(kThreads)
    batch_norm_statistics_kernel(const float* x, float* stats, ChannelValues v) {
  __shared__ double scratch[32];
  const int c = blockIdx.x;
  double sum = 0.0;
  for (long long j = threadIdx.x; j < v.count; j += blockDim.x) sum += x[v.index(c, j)];
  const double mean = block_sum(sum, scratch) / static_cast<double>(v.count);
  double squares = 0.0;
  for (long long j = threadIdx.x; j < v.count; j += blockDim.x) {
    const double d = x[v.index(c, j)] - mean;
    squares += d * d;
  }
  squares = block_sum(squares, scratch);
  if (threadIdx.x == 0) {
    stats[c] = static_cast<float>(mean);
    stats[v.C + c] = static_cast<float>(squares / static_cast<double>(v.count));
  }
}

__global__ void __launch_bounds__(kThreads)
    batch_norm_backward_kernel(const float* dy, const float* x, const float* weight, const float* stats,
                               double eps, float* dx, float* dweight, float* dbias, ChannelValues v) {
  __shared__ double scratch[32];
  const int c = blockIdx.x;
  const double mean = stats[c], invstd = 1.0 / sqrt(static_cast<double>(stats[v.C + c]) + eps);
  double sum_dy = 0.0, sum_dy_centred = 0.0;
  for (long long j = threadIdx.x; j < v.count; j += blockDim.x) {
    const long long k = v.index(c, j);
    sum_dy += dy[k];
    sum_dy_centred += dy[k] * (x[k] - mean);
  }
  sum_dy = block_sum(sum_dy, scratch);
  sum_dy_centred = block_sum(sum_dy_centred, scratch);
  if (threadIdx.x == 0) {
    dbias[c] = static_cast<float>(sum_dy);
    dweight[c] = static_cast<float>(sum_dy_centred * invstd);
  }
  const double count = static_cast<double>(v.count);
  const double a = weight[c] * invstd, b = -a * invstd * invstd * sum_dy_centred / count,
               d = -a * sum_dy / count;
  for (long long j = threadIdx.x; j < v.count; j += blockDim.x) {
    const long long k = v.index(c, j);
    dx[k] = static_cast<float>(a * dy[k] + b * (x[k] - mean) + d);
  }
}

}  // namespace

void batch_norm_statistics(const Tensor& x, Tensor& stats) {
  const ChannelValues v = channel_values(x);
  SC_LAUNCH(v.C, kThreads, 0, batch_norm_statistics_kernel)(x.data<float>(), stats.data<float>(), v);
  SC_CUDA_LAUNCH_CHECK("batch_norm_statistics_kernel");
}

void batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, const Tensor& stats,
                         double eps, BatchNormGradients& g) {
  const ChannelValues v = channel_values(x);
  SC_LAUNCH(v.C, kThreads, 0, batch_norm_backward_kernel)
  (dy.data<float>(), x.data<float>(), weight.data<float>(), stats.data<float>(), eps, g.dx.data<float>(),
   g.dweight.data<float>(), g.dbias.data<float>(), v);
  SC_CUDA_LAUNCH_CHECK("batch_norm_backward_kernel");
}

}  // namespace sc::cuda
