// group_norm_nhwc on CUDA in two kernels over chunks of 64 positions, one block per (chunk, sample), so that
// every SM has work at any batch size:
//   1. statistics: each thread reads V consecutive channels (16 bytes) of every R-th position of the
//      chunk (4 loads in flight) and keeps a Welford mean/M2 per channel; the block then combines, per group,
//      the partials of its rows and channels (Chan's formula, several threads per group) and writes the
//      chunk's (mean, M2) of each group;
//   2. apply: each block combines its sample's chunk partials into the group's mean and 1/√(var + eps), folds
//      them with γ/β into one scale and shift per channel, and writes act(x·a + b) for its chunk.
// x is read twice and y written once.
#include <algorithm>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/half_types.cuh"
#include "kernels/float_dispatch.h"
#include "kernels/group_norm_nhwc.h"

namespace sc::cuda {
namespace {

constexpr int kChunk = 64;             // positions per block
constexpr int kRowThreads = 256;       // threads per block when a position needs fewer
constexpr int kMaxLanes = 1024;        // threads across one position's channels
constexpr int kMaxStatsFloats = 4096;  // rows · C of the statistics kernel's shared partials (2 arrays)

// V consecutive elements as floats: one 16-byte access when V elements fill it.
template <typename T, int V>
__device__ __forceinline__ void load_vec(const T* p, float (&v)[V]) {
  if constexpr (V * sizeof(T) == 16) {
    const uint4 raw = *reinterpret_cast<const uint4*>(p);
    const T* e = reinterpret_cast<const T*>(&raw);
#pragma unroll
    for (int i = 0; i < V; ++i) v[i] = load_f32(e + i);
  } else {
#pragma unroll
    for (int i = 0; i < V; ++i) v[i] = load_f32(p + i);
  }
}
template <typename T, int V>
__device__ __forceinline__ void store_vec(T* p, const float (&v)[V]) {
  if constexpr (V * sizeof(T) == 16) {
    uint4 raw;
    T* e = reinterpret_cast<T*>(&raw);
#pragma unroll
    for (int i = 0; i < V; ++i) store_f32(e + i, v[i]);
    *reinterpret_cast<uint4*>(p) = raw;
  } else {
#pragma unroll
    for (int i = 0; i < V; ++i) store_f32(p + i, v[i]);
  }
}

// Chan et al.: (n, mean, M2) of a set joined with (nb, mean_b, m2_b) of another.
__device__ __forceinline__ void chan_combine(float& n, float& mean, float& m2, float nb, float mean_b,
                                             float m2_b) {
  if (nb == 0.0f) return;
  const float total = n + nb, delta = mean_b - mean;
  mean += delta * nb / total;
  m2 += m2_b + delta * delta * n * nb / total;
  n = total;
}

// Thread layout of both kernels: lane = the thread's channel vector, row = which of the R positions in
// flight.
struct Layout {
  int lanes, rows;
  __device__ int lane() const { return threadIdx.x % lanes; }
  __device__ int row() const { return threadIdx.x / lanes; }
};

// How many threads share one group's combine: up to kMaxHelpers, as the block's threads allow.
constexpr int kMaxHelpers = 16;
__host__ __device__ inline int combine_helpers(int threads, int G) {
  const int helpers = threads / G;
  return helpers < 1 ? 1 : helpers > kMaxHelpers ? kMaxHelpers : helpers;
}

// Each group's (n, mean, M2) from its `items` partials (item(g, i, n, mean, m2) gives each) by the block:
// `helpers` threads per group each join every helpers-th item in order (Chan's formula), leave that in
// `scratch` (3 floats per thread of the combine), and after a barrier one thread per group joins those and
// hands the result to done(g, n, mean, m2). A serial join per group had one thread join up to rows · C/G
// partials while the rest of the block waited. Every thread of the block must call it.
template <typename Item, typename Done>
__device__ void combine_groups(int G, int items, float* scratch, Item item, Done done) {
  const int helpers = combine_helpers(static_cast<int>(blockDim.x), G);
  for (int t = threadIdx.x; t < G * helpers; t += blockDim.x) {
    const int g = t / helpers;
    float n = 0.0f, mean = 0.0f, m2 = 0.0f;
    for (int i = t % helpers; i < items; i += helpers) {
      float nb, mb, qb;
      item(g, i, nb, mb, qb);
      chan_combine(n, mean, m2, nb, mb, qb);
    }
    scratch[3 * t] = n, scratch[3 * t + 1] = mean, scratch[3 * t + 2] = m2;
  }
  __syncthreads();
  for (int g = threadIdx.x; g < G; g += blockDim.x) {
    float n = 0.0f, mean = 0.0f, m2 = 0.0f;
    for (int h = 0; h < helpers; ++h) {
      const float* q = scratch + 3 * (g * helpers + h);
      chan_combine(n, mean, m2, q[0], q[1], q[2]);
    }
    done(g, n, mean, m2);
  }
}

// Floats of a block's combine scratch.
inline int combine_scratch_floats(int threads, int G) {
  return 3 * G * combine_helpers(threads, G);
}

template <typename T, int V>
__global__ void group_norm_stats_kernel(const T* __restrict__ x, float2* __restrict__ part, int P, int C,
                                        int G, Layout lay) {
  SC_DYNAMIC_SHARED(float, partials);  // mean[rows][C], then M2[rows][C], then the combine's scratch
  const int lane = lay.lane(), row = lay.row();
  const int p0 = blockIdx.x * kChunk, positions = min(kChunk, P - p0);
  const T* xs = x + (static_cast<long long>(blockIdx.y) * P + p0) * C + lane * V;
  float mean[V], m2[V];
#pragma unroll
  for (int i = 0; i < V; ++i) mean[i] = 0.0f, m2[i] = 0.0f;
  float k = 0.0f;
  // kUnroll positions' loads in flight before their Welford updates (which stay in position order).
  constexpr int kUnroll = 4;
  for (int p = row; p < positions; p += kUnroll * lay.rows) {
    float v[kUnroll][V];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
      if (p + u * lay.rows < positions) load_vec<T, V>(xs + static_cast<long long>(p + u * lay.rows) * C, v[u]);
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      if (p + u * lay.rows >= positions) break;
      k += 1.0f;
      const float inv = 1.0f / k;
#pragma unroll
      for (int i = 0; i < V; ++i) {
        const float d = v[u][i] - mean[i];
        mean[i] += d * inv;
        m2[i] += d * (v[u][i] - mean[i]);
      }
    }
  }
  float* s_mean = partials;
  float* s_m2 = partials + lay.rows * C;
#pragma unroll
  for (int i = 0; i < V; ++i) s_mean[row * C + lane * V + i] = mean[i], s_m2[row * C + lane * V + i] = m2[i];
  __syncthreads();
  // Group g's partials: row r (which saw every rows-th position from r) × its C/G channels.
  const int cg = C / G, rows = min(lay.rows, positions);
  combine_groups(
      G, rows * cg, partials + 2 * lay.rows * C,
      [&](int g, int i, float& n, float& m, float& q) {
        const int r = i / cg, c = g * cg + i % cg;
        n = static_cast<float>((positions - r + lay.rows - 1) / lay.rows);
        m = s_mean[r * C + c], q = s_m2[r * C + c];
      },
      [&](int g, float, float m, float q) {
        part[(static_cast<long long>(blockIdx.y) * gridDim.x + blockIdx.x) * G + g] = make_float2(m, q);
      });
}

template <typename T, int V>
__global__ void group_norm_apply_kernel(const T* __restrict__ x, const float2* __restrict__ part,
                                        const float* __restrict__ gamma, const float* __restrict__ beta,
                                        T* __restrict__ y, int P, int C, int G, float eps, bool silu,
                                        Layout lay) {
  SC_DYNAMIC_SHARED(float, coeffs);  // a[C], b[C], then per group mean[G], rstd[G], the combine's scratch
  float* a = coeffs;
  float* b = coeffs + C;
  float* g_mean = coeffs + 2 * C;
  float* g_rstd = g_mean + G;
  const int cg = C / G, chunks = gridDim.x;
  combine_groups(
      G, chunks, g_rstd + G,
      [&](int g, int s, float& n, float& m, float& q) {
        const float2 v = part[(static_cast<long long>(blockIdx.y) * chunks + s) * G + g];
        n = static_cast<float>(min(kChunk, P - s * kChunk) * cg), m = v.x, q = v.y;
      },
      [&](int g, float n, float m, float q) {
        g_mean[g] = m;
        g_rstd[g] = rsqrtf(q / n + eps);  // biased variance, as PyTorch's GroupNorm
      });
  __syncthreads();
  for (int c = threadIdx.x; c < C; c += blockDim.x) {
    const int g = c / cg;
    a[c] = g_rstd[g] * gamma[c];
    b[c] = beta[c] - g_mean[g] * a[c];
  }
  __syncthreads();
  const int lane = lay.lane(), row = lay.row(), c0 = lane * V;
  const int p0 = blockIdx.x * kChunk, positions = min(kChunk, P - p0);
  const long long offset = (static_cast<long long>(blockIdx.y) * P + p0) * C + c0;
  for (int p = row; p < positions; p += lay.rows) {
    float v[V];
    load_vec<T, V>(x + offset + static_cast<long long>(p) * C, v);
#pragma unroll
    for (int i = 0; i < V; ++i) {
      v[i] = v[i] * a[c0 + i] + b[c0 + i];
      if (silu) v[i] = v[i] / (1.0f + __expf(-v[i]));
    }
    store_vec<T, V>(y + offset + static_cast<long long>(p) * C, v);
  }
}

template <typename T, int V>
void launch(const Tensor& x, int G, const Tensor& gamma, const Tensor& beta, float eps, bool silu,
            Tensor& y) {
  const int N = static_cast<int>(x.size(0)), P = static_cast<int>(x.size(1) * x.size(2));
  const int C = static_cast<int>(x.size(3));
  Layout lay{C / V, 0};
  lay.rows = std::max(1, std::min(kChunk, kRowThreads / lay.lanes));
  SC_CHECK(lay.lanes <= kMaxLanes && lay.rows * C <= kMaxStatsFloats, "group_norm_nhwc: ", C,
           " channels are too many for one block on CUDA (at most ", V == 1 ? kMaxLanes : kMaxStatsFloats,
           " for this dtype and alignment)");
  SC_CHECK(N <= 65535, "group_norm_nhwc: at most 65535 samples per launch on CUDA");
  const dim3 grid(static_cast<unsigned>((P + kChunk - 1) / kChunk), static_cast<unsigned>(N));
  const int threads = lay.lanes * lay.rows;
  Tensor part = Tensor::empty({static_cast<int64_t>(grid.x) * N * G * 2}, DType::F32, x.device());
  float2* pp = reinterpret_cast<float2*>(part.data<float>());
  const size_t scratch = static_cast<size_t>(combine_scratch_floats(threads, G));
  const size_t stats_smem = sizeof(float) * (2 * lay.rows * C + scratch);
  const size_t apply_smem = sizeof(float) * (2 * C + 2 * G + scratch);
  opt_in_shared_memory(reinterpret_cast<const void*>(group_norm_stats_kernel<T, V>), stats_smem);
  opt_in_shared_memory(reinterpret_cast<const void*>(group_norm_apply_kernel<T, V>), apply_smem);
  SC_LAUNCH(grid, threads, stats_smem, group_norm_stats_kernel<T, V>)(x.data<T>(), pp, P, C, G, lay);
  SC_CUDA_LAUNCH_CHECK("group_norm_stats_kernel");
  SC_LAUNCH(grid, threads, apply_smem, group_norm_apply_kernel<T, V>)(
      x.data<T>(), pp, gamma.data<float>(), beta.data<float>(), y.data<T>(), P, C, G, eps, silu, lay);
  SC_CUDA_LAUNCH_CHECK("group_norm_apply_kernel");
}

}  // namespace

void group_norm_nhwc(const Tensor& x, int64_t groups, const Tensor& gamma, const Tensor& beta, double eps,
                     bool silu, Tensor& y) {
  const int C = static_cast<int>(x.size(3)), G = static_cast<int>(groups);
  const auto aligned = [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.raw_data()) % 16 == 0; };
  const bool vectors = aligned(x) && aligned(y);
  visit_float_storage(x.dtype(), "group_norm_nhwc", [&](auto t) {
    using T = decltype(t);
    constexpr int V = 16 / sizeof(T);
    if (vectors && C % V == 0)
      launch<T, V>(x, G, gamma, beta, static_cast<float>(eps), silu, y);
    else
      launch<T, 1>(x, G, gamma, beta, static_cast<float>(eps), silu, y);
  });
}

}  // namespace sc::cuda
