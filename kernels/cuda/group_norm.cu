// One block per (sample, group): a two-pass mean/variance reduction in float (as PyTorch's GroupNorm32 computes
// in float32), then the normalized, scaled output.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/warp_reduce.cuh"
#include "kernels/group_norm.h"
#include "kernels/per_channel_check.h"

namespace sc::cuda {

namespace {
__device__ float block_sum(float v, float* shared) {
  v = warp_sum(v);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  v = threadIdx.x < blockDim.x / 32 ? shared[threadIdx.x] : 0.0f;
  if (warp == 0) v = warp_sum(v);
  if (threadIdx.x == 0) shared[0] = v;
  __syncthreads();
  v = shared[0];
  __syncthreads();
  return v;
}

__global__ void group_norm_kernel(const float* x, const float* gamma, const float* beta, float* y, int C, int Cg,
                                  long long P, float eps) {
  __shared__ float shared[32];
  const long long len = Cg * P;
  const int G = C / Cg, n = blockIdx.x / G, grp = blockIdx.x % G;
  const float* xi = x + (static_cast<long long>(n) * C + static_cast<long long>(grp) * Cg) * P;
  float* yi = y + (static_cast<long long>(n) * C + static_cast<long long>(grp) * Cg) * P;
  float s = 0;
  for (long long i = threadIdx.x; i < len; i += blockDim.x) s += xi[i];
  const float mean = block_sum(s, shared) / static_cast<float>(len);
  float s2 = 0;
  for (long long i = threadIdx.x; i < len; i += blockDim.x) s2 += (xi[i] - mean) * (xi[i] - mean);
  const float inv = rsqrtf(block_sum(s2, shared) / static_cast<float>(len) + eps);
  for (long long i = threadIdx.x; i < len; i += blockDim.x) {
    const int ch = grp * Cg + static_cast<int>(i / P);
    yi[i] = (xi[i] - mean) * inv * gamma[ch] + beta[ch];
  }
}
}  // namespace

void group_norm(const Tensor& x, int64_t groups, const Tensor& gamma, const Tensor& beta, double eps, Tensor& y) {
  const int C = static_cast<int>(x.size(1)), Cg = static_cast<int>(x.size(1) / groups);
  const long long blocks = x.size(0) * groups;
  SC_CHECK(blocks < (1LL << 31), "group_norm (CUDA): too many groups");
  SC_LAUNCH(static_cast<unsigned>(blocks), kThreads, 0, group_norm_kernel)(
      x.data<float>(), gamma.data<float>(), beta.data<float>(), y.data<float>(), C, Cg, plane_size(x),
      static_cast<float>(eps));
  SC_CUDA_LAUNCH_CHECK("group_norm_kernel");
}

}  // namespace sc::cuda
