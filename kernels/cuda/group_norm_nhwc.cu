// One block per sample. Each thread owns channels c = tid, tid + 256, ... (reads coalesced over C) and keeps
// a Welford mean/M2 per channel over the H·W positions; the channels of a group are then combined with Chan's
// formula (equal counts: M2_g = Σ M2_c + P·Σ (mean_c − mean_g)²), and a second pass writes the normalized
// values.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/half_types.cuh"
#include "kernels/float_dispatch.h"
#include "kernels/group_norm_nhwc.h"

namespace sc::cuda {
namespace {

constexpr int kGroupNormThreads = 256;
constexpr int kMaxChannelsPerThread = 8;  // C ≤ 2048

template <typename T>
__global__ void group_norm_nhwc_kernel(const T* __restrict__ x, const float* __restrict__ gamma,
                                       const float* __restrict__ beta, T* __restrict__ y, int P, int C, int G,
                                       float eps, bool silu) {
  extern __shared__ float stats[];  // mean[C], m2[C], then per group: mean[G], rstd[G]
  float* ch_mean = stats;
  float* ch_m2 = stats + C;
  float* g_mean = stats + 2 * C;
  float* g_rstd = g_mean + G;
  const long long base = static_cast<long long>(blockIdx.x) * P * C;
  float mean[kMaxChannelsPerThread], m2[kMaxChannelsPerThread];
#pragma unroll
  for (int k = 0; k < kMaxChannelsPerThread; ++k) mean[k] = 0.0f, m2[k] = 0.0f;
  for (int p = 0; p < P; ++p) {
    const float inv = 1.0f / static_cast<float>(p + 1);
#pragma unroll
    for (int k = 0; k < kMaxChannelsPerThread; ++k) {
      const int c = threadIdx.x + k * kGroupNormThreads;
      if (c < C) {
        const float v = load_f32(x + base + static_cast<long long>(p) * C + c);
        const float d = v - mean[k];
        mean[k] += d * inv;
        m2[k] += d * (v - mean[k]);
      }
    }
  }
#pragma unroll
  for (int k = 0; k < kMaxChannelsPerThread; ++k) {
    const int c = threadIdx.x + k * kGroupNormThreads;
    if (c < C) ch_mean[c] = mean[k], ch_m2[c] = m2[k];
  }
  __syncthreads();
  const int cg = C / G;
  for (int g = threadIdx.x; g < G; g += blockDim.x) {
    float gm = 0.0f;
    for (int j = 0; j < cg; ++j) gm += ch_mean[g * cg + j];
    gm /= static_cast<float>(cg);
    float gm2 = 0.0f;
    for (int j = 0; j < cg; ++j) {
      const float d = ch_mean[g * cg + j] - gm;
      gm2 += ch_m2[g * cg + j] + static_cast<float>(P) * d * d;
    }
    g_mean[g] = gm;
    g_rstd[g] = rsqrtf(gm2 / static_cast<float>(P * cg) + eps);
  }
  __syncthreads();
  for (int k = 0; k < kMaxChannelsPerThread; ++k) {
    const int c = threadIdx.x + k * kGroupNormThreads;
    if (c >= C) break;
    const int g = c / cg;
    const float a = g_rstd[g] * gamma[c], b = beta[c] - g_mean[g] * a;
    for (int p = 0; p < P; ++p) {
      const long long i = base + static_cast<long long>(p) * C + c;
      float v = load_f32(x + i) * a + b;
      if (silu) v = v / (1.0f + __expf(-v));
      store_f32(y + i, v);
    }
  }
}

}  // namespace

void group_norm_nhwc(const Tensor& x, int64_t groups, const Tensor& gamma, const Tensor& beta, double eps,
                     bool silu, Tensor& y) {
  const int P = static_cast<int>(x.size(1) * x.size(2)), C = static_cast<int>(x.size(3));
  const int G = static_cast<int>(groups);
  SC_CHECK(C <= kGroupNormThreads * kMaxChannelsPerThread, "group_norm_nhwc: at most ",
           kGroupNormThreads * kMaxChannelsPerThread, " channels on CUDA, got ", C);
  const size_t smem = static_cast<size_t>(2 * C + 2 * G) * sizeof(float);
  auto launch = [&](auto* xp) {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(xp)>>;
    group_norm_nhwc_kernel<T><<<static_cast<unsigned>(x.size(0)), kGroupNormThreads, smem, stream()>>>(
        xp, gamma.data<float>(), beta.data<float>(), y.data<T>(), P, C, G, static_cast<float>(eps), silu);
    SC_CUDA_LAUNCH_CHECK("group_norm_nhwc_kernel");
  };
  visit_float_storage(x.dtype(), "group_norm_nhwc", [&](auto t) { launch(x.data<decltype(t)>()); });
}

}  // namespace sc::cuda
