// One block per (batch·head, query position t): the T scores go to shared memory, a block-wide max and sum give
// the softmax, then each thread forms output channels as the weighted sum of values. Simple and exact in float;
// the fast path (tensor cores, flash-style tiling) belongs to the performance work.
#include <cmath>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/warp_reduce.cuh"
#include "kernels/qkv_attention.h"

namespace sc::cuda {

namespace {
__global__ void qkv_attention_kernel(const float* qkv, float* out, int d, int T, float scale) {
  SC_DYNAMIC_SHARED(float, w);  // T scores, then 32 reduction slots
  float* red = w + T;
  const int t = blockIdx.x, bh = blockIdx.y;
  const float* q = qkv + static_cast<long long>(bh) * 3 * d * T;
  const float *k = q + static_cast<long long>(d) * T, *v = k + static_cast<long long>(d) * T;
  float local_max = -INFINITY;
  for (int s = threadIdx.x; s < T; s += blockDim.x) {
    float acc = 0;
    for (int c = 0; c < d; ++c) acc += (q[c * T + t] * scale) * (k[c * T + s] * scale);
    w[s] = acc;
    local_max = fmaxf(local_max, acc);
  }
  const float m = block_reduce(local_max, red, true);
  float local_sum = 0;
  for (int s = threadIdx.x; s < T; s += blockDim.x) local_sum += (w[s] = expf(w[s] - m));
  const float inv = 1.0f / block_reduce(local_sum, red, false);
  float* o = out + static_cast<long long>(bh) * d * T;
  for (int c = threadIdx.x; c < d; c += blockDim.x) {
    float acc = 0;
    for (int s = 0; s < T; ++s) acc += w[s] * v[c * T + s];
    o[c * T + t] = acc * inv;
  }
}
}  // namespace

void qkv_attention(const Tensor& qkv, int64_t heads, Tensor& out) {
  const int T = static_cast<int>(qkv.size(2)), d = static_cast<int>(qkv.size(1) / (3 * heads));
  const long long bh = qkv.size(0) * heads;
  SC_CHECK(bh <= 65535 && T <= 12000, "qkv_attention (CUDA): too many heads or positions for this kernel");
  const size_t shared = (static_cast<size_t>(T) + 32) * sizeof(float);
  if (shared > 48 * 1024)
    SC_CUDA_CHECK(cudaFuncSetAttribute(qkv_attention_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       static_cast<int>(shared)));
  const float scale = static_cast<float>(1.0 / std::sqrt(std::sqrt(static_cast<double>(d))));
  SC_LAUNCH(dim3(T, static_cast<unsigned>(bh)), kThreads, shared, qkv_attention_kernel)(
      qkv.data<float>(), out.data<float>(), d, T, scale);
  SC_CUDA_LAUNCH_CHECK("qkv_attention_kernel");
}

}  // namespace sc::cuda
