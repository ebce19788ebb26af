// One thread per query, one block per (128 queries, head, sample): keys and values pass through shared memory
// in chunks of 32, with an online softmax (running max m, running sum l; one rescale of the accumulator per
// chunk).
#include <type_traits>

#include "kernels/attention_nhwc.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/half_types.cuh"
#include "kernels/float_dispatch.h"

namespace sc::cuda {
namespace {

constexpr int kQueries = 128, kKeys = 32;

template <typename T, int D>
__global__ void __launch_bounds__(kQueries)
    attention_nhwc_kernel(const T* __restrict__ qkv, T* __restrict__ out, int Tn, int C, float scale) {
  __shared__ float ks[kKeys][D], vs[kKeys][D];
  const int h = blockIdx.y, t = blockIdx.x * kQueries + threadIdx.x;
  const long long row = 3LL * C;  // one position's qkv
  const T* base = qkv + static_cast<long long>(blockIdx.z) * Tn * row + static_cast<long long>(h) * 3 * D;
  float q[D], o[D];
  const bool active = t < Tn;
#pragma unroll
  for (int j = 0; j < D; ++j) {
    q[j] = active ? load_f32(base + t * row + j) * scale : 0.0f;
    o[j] = 0.0f;
  }
  float m = -INFINITY, l = 0.0f;
  for (int s0 = 0; s0 < Tn; s0 += kKeys) {
    const int keys = min(kKeys, Tn - s0);
    __syncthreads();
    for (int i = threadIdx.x; i < keys * D; i += kQueries) {
      const int s = i / D, j = i % D;
      ks[s][j] = load_f32(base + (s0 + s) * row + D + j);
      vs[s][j] = load_f32(base + (s0 + s) * row + 2 * D + j);
    }
    __syncthreads();
    float score[kKeys];
    float cmax = -INFINITY;
#pragma unroll
    for (int s = 0; s < kKeys; ++s) {
      float acc = 0.0f;
#pragma unroll
      for (int j = 0; j < D; ++j) acc += q[j] * ks[s][j];
      score[s] = s < keys ? acc : -INFINITY;
      cmax = fmaxf(cmax, score[s]);
    }
    const float m_new = fmaxf(m, cmax), corr = __expf(m - m_new);
    l *= corr;
#pragma unroll
    for (int j = 0; j < D; ++j) o[j] *= corr;
#pragma unroll
    for (int s = 0; s < kKeys; ++s) {
      const float p = s < keys ? __expf(score[s] - m_new) : 0.0f;
      l += p;
#pragma unroll
      for (int j = 0; j < D; ++j) o[j] += p * vs[s][j];
    }
    m = m_new;
  }
  if (!active) return;
  T* dst = out + (static_cast<long long>(blockIdx.z) * Tn + t) * C + h * D;
  const float inv = 1.0f / l;
#pragma unroll
  for (int j = 0; j < D; ++j) store_f32(dst + j, o[j] * inv);
}

}  // namespace

void attention_nhwc(const Tensor& qkv, int64_t heads, Tensor& out) {
  const int Tn = static_cast<int>(qkv.size(1)), C = static_cast<int>(qkv.size(2) / 3);
  const int d = C / static_cast<int>(heads);
  SC_CHECK(qkv.size(0) < 65536, "attention_nhwc: at most 65535 samples per launch on CUDA");
  const dim3 grid((Tn + kQueries - 1) / kQueries, static_cast<unsigned>(heads),
                  static_cast<unsigned>(qkv.size(0)));
  const float scale = 1.0f / sqrtf(static_cast<float>(d));
  auto launch = [&](auto* qp) {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(qp)>>;
    T* op = out.data<T>();
    if (d == 16)
      attention_nhwc_kernel<T, 16><<<grid, kQueries, 0, stream()>>>(qp, op, Tn, C, scale);
    else if (d == 32)
      attention_nhwc_kernel<T, 32><<<grid, kQueries, 0, stream()>>>(qp, op, Tn, C, scale);
    else
      attention_nhwc_kernel<T, 64><<<grid, kQueries, 0, stream()>>>(qp, op, Tn, C, scale);
    SC_CUDA_LAUNCH_CHECK("attention_nhwc_kernel");
  };
  visit_float_storage(qkv.dtype(), "attention_nhwc", [&](auto t) { launch(qkv.data<decltype(t)>()); });
}

}  // namespace sc::cuda
