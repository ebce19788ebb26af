// attention_nhwc on CUDA, two kernels:
//   - bfloat16/float16 (16-byte aligned): tensor cores, flash-attention style. A block of 4 warps takes 64
//     queries of one (sample, head), 16 per warp; key/value tiles of 64 positions pass through shared memory.
//     Per tile each warp computes its 16×64 scores S = Q·Kᵀ with mma.sync (float accumulators), updates the
//     running row max m and sum l (online softmax, base 2), rounds P = 2^(S·log2e/√d − m) to the storage type
//     (as the CPU emulation does) and accumulates O += P·V with P taken straight from the S accumulators as
//     the A operand. O/l is stored once at the end.
//   - float32 (and anything unaligned): one thread per query on CUDA cores, keys and values through shared
//     memory in chunks of 32, the same online softmax.
// Both add BEiT's relative position bias to the scores when given (a template flag: the UNet's attention
// compiles without it): each token's patch coordinates once per query and per key, then a table read.
#include <type_traits>

#include "kernels/attention_nhwc.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/half_types.cuh"
#include "kernels/float_dispatch.h"
#include "kernels/relative_position.h"

namespace sc::cuda {
namespace {

constexpr int kQueries = 128, kKeys = 32;

// The relative position bias on the device: the table [R, heads] and the grid (kernels/relative_position.h).
struct DeviceBias {
  const float* table = nullptr;
  int gh = 1, gw = 1, heads = 1;
  FastDivisor width;  // by gw
  // Token t's patch coordinates (y, x); the class token's y is −1.
  __device__ __forceinline__ int2 place(int t) const {
    if (t == 0) return make_int2(-1, 0);
    const int y = width.div(t - 1);
    return make_int2(y, t - 1 - y * gw);
  }
  __device__ __forceinline__ float at(int2 q, int2 k, int head) const {
    return __ldg(table + relative_position_row<int>(q.x, q.y, k.x, k.y, gh, gw) * heads + head);
  }
};

template <typename T, int D, bool Bias>
__global__ void __launch_bounds__(kQueries)
    attention_nhwc_kernel(const T* __restrict__ qkv, T* __restrict__ out, int Tn, int C, float scale,
                          DeviceBias bias) {
  __shared__ float ks[kKeys][D], vs[kKeys][D];
  // Each thread's biases for the chunk's keys, a column per thread (kept out of registers: the unrolled score
  // loop would spill them).
  __shared__ float bias_s[Bias ? kKeys : 1][Bias ? kQueries : 1];
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
  const int2 qplace = Bias && active ? bias.place(t) : make_int2(0, 0);
  for (int s0 = 0; s0 < Tn; s0 += kKeys) {
    const int keys = min(kKeys, Tn - s0);
    __syncthreads();
    for (int i = threadIdx.x; i < keys * D; i += kQueries) {
      const int s = i / D, j = i % D;
      ks[s][j] = load_f32(base + (s0 + s) * row + D + j);
      vs[s][j] = load_f32(base + (s0 + s) * row + 2 * D + j);
    }
    __syncthreads();
    if constexpr (Bias) {
      if (active)
        for (int s = 0; s < keys; ++s) bias_s[s][threadIdx.x] = bias.at(qplace, bias.place(s0 + s), h);
    }
    float score[kKeys];
    float cmax = -INFINITY;
#pragma unroll
    for (int s = 0; s < kKeys; ++s) {
      float acc = 0.0f;
#pragma unroll
      for (int j = 0; j < D; ++j) acc += q[j] * ks[s][j];
      if constexpr (Bias) {
        if (active && s < keys) acc += bias_s[s][threadIdx.x];
      }
      score[s] = s < keys ? acc : -INFINITY;
      cmax = fmaxf(cmax, score[s]);
    }
    const float m_new = fmaxf(m, cmax), corr = __expf(m - m_new);
    l *= corr;
#pragma unroll
    for (int j = 0; j < D; ++j) o[j] *= corr;
#pragma unroll
    for (int s = 0; s < kKeys; ++s) {
      const float p = s < keys ? round_to<T>(__expf(score[s] - m_new)) : 0.0f;  // as the tensor-core path
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

// ---- tensor cores ----

constexpr int kMmaWarps = 4, kMmaQueries = 16 * kMmaWarps, kKeyTile = 64;
constexpr float kLog2e = 1.4426950408889634f;

__device__ __forceinline__ uint32_t pack2(uint16_t lo, uint16_t hi) {
  return static_cast<uint32_t>(lo) | (static_cast<uint32_t>(hi) << 16);
}

// The max (or sum) of a row over the 4 lanes of a quad, which together hold the row's columns.
__device__ __forceinline__ float quad_max(float v) {
  v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
  return fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
}
__device__ __forceinline__ float quad_sum(float v) {
  v += __shfl_xor_sync(0xffffffffu, v, 1);
  return v + __shfl_xor_sync(0xffffffffu, v, 2);
}

// Fragments (mma m16n8k16): lane l is in group g = l/4 and holds columns 2·(l%4), +1 of rows g and g + 8.
template <typename T, int D, bool Bias>
__global__ void __launch_bounds__(32 * kMmaWarps)
    attention_mma_kernel(const T* __restrict__ qkv, T* __restrict__ out, int Tn, int C, float scale_log2,
                         DeviceBias bias) {
  constexpr int kStride = D + 8;  // 16-bit elements per shared row: 16-byte aligned, ldmatrix conflict-free
  constexpr int KS = D / 16, NT = kKeyTile / 8, DT = D / 8;
  __shared__ __align__(16) uint16_t ks[kKeyTile][kStride], vs[kKeyTile][kStride];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, grp = lane / 4, tig = lane % 4;
  const long long row = 3LL * C;
  const uint16_t* base = reinterpret_cast<const uint16_t*>(qkv) +
                         static_cast<long long>(blockIdx.z) * Tn * row +
                         static_cast<long long>(blockIdx.y) * 3 * D;

  // This warp's 16 queries as A fragments, straight from global memory (pairs of columns are 4-byte aligned).
  const int q0 = blockIdx.x * kMmaQueries + warp * 16;
  uint32_t qa[KS][4];
#pragma unroll
  for (int k = 0; k < KS; ++k)
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int t = q0 + grp + (i % 2) * 8, col = k * 16 + 2 * tig + (i / 2) * 8;
      qa[k][i] = t < Tn ? *reinterpret_cast<const uint32_t*>(base + t * row + col) : 0u;
    }

  float o[DT][4], m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
#pragma unroll
  for (int j = 0; j < DT; ++j)
#pragma unroll
    for (int i = 0; i < 4; ++i) o[j][i] = 0.0f;

  // The patch coordinates of this lane's two query rows (rows past the end take the last one's: unused).
  int2 qplace[2] = {make_int2(0, 0), make_int2(0, 0)};
  if (Bias)
#pragma unroll
    for (int h = 0; h < 2; ++h) qplace[h] = bias.place(min(q0 + grp + 8 * h, Tn - 1));

  // ldmatrix addresses: lane l points at row l % 8 of tile l / 8.
  const int tile = lane / 8, tile_row = lane % 8;
  for (int s0 = 0; s0 < Tn; s0 += kKeyTile) {
    __syncthreads();  // the previous tile is consumed
    for (int i = threadIdx.x; i < kKeyTile * (D / 8); i += 32 * kMmaWarps) {
      const int r = i / (D / 8), c = (i % (D / 8)) * 8, s = s0 + r;
      uint4 kv = make_uint4(0, 0, 0, 0), vv = kv;  // zeros past the end: 0·garbage could be NaN
      if (s < Tn) {
        kv = *reinterpret_cast<const uint4*>(base + s * row + D + c);
        vv = *reinterpret_cast<const uint4*>(base + s * row + 2 * D + c);
      }
      *reinterpret_cast<uint4*>(&ks[r][c]) = kv;
      *reinterpret_cast<uint4*>(&vs[r][c]) = vv;
    }
    __syncthreads();

    // S = Q·Kᵀ: B(k = d, n = key) is K's row, so plain ldmatrix of tiles (keys 8·nt.., d 16·k + 0/8) fits.
    float sc[NT][4];
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
      for (int i = 0; i < 4; ++i) sc[nt][i] = 0.0f;
#pragma unroll
    for (int nt = 0; nt < NT; nt += 2)
#pragma unroll
      for (int k = 0; k < KS; ++k) {
        uint32_t b[4];  // tiles: (nt, d lo), (nt, d hi), (nt + 1, d lo), (nt + 1, d hi)
        ldmatrix_x4(b, &ks[(nt + tile / 2) * 8 + tile_row][k * 16 + (tile % 2) * 8]);
        Half16<T>::mma(sc[nt], qa[k], b);
        Half16<T>::mma(sc[nt + 1], qa[k], b + 2);
      }

    // Online softmax in base 2 over rows g (h = 0) and g + 8 (h = 1); keys past the end score −∞.
    float corr[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      float mx = -INFINITY;
#pragma unroll
      for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int c = 0; c < 2; ++c) {
          const int s = s0 + nt * 8 + 2 * tig + c;
          float& v = sc[nt][2 * h + c];
          v = s < Tn ? v * scale_log2 : -INFINITY;
          if (Bias && s < Tn) v += kLog2e * bias.at(qplace[h], bias.place(s), blockIdx.y);  // base 2 as v
          mx = fmaxf(mx, v);
        }
      const float m_new = fmaxf(m[h], quad_max(mx));  // finite: key s0 < Tn is in every tile
      corr[h] = exp2f(m[h] - m_new);
      m[h] = m_new;
      l[h] *= corr[h];
    }
#pragma unroll
    for (int j = 0; j < DT; ++j) {
      o[j][0] *= corr[0], o[j][1] *= corr[0];
      o[j][2] *= corr[1], o[j][3] *= corr[1];
    }

    // O += P·V, 16 keys per step: P's A fragment is two neighbouring S accumulators, rounded; B(k = key,
    // n = d) runs down V's columns, so transposed ldmatrix of tiles (keys 16·kk + 0/8, d 8·j) fits.
#pragma unroll
    for (int kk = 0; kk < kKeyTile / 16; ++kk) {
      uint32_t pa[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) {  // a0: (g, lo keys), a1: (g + 8, lo), a2: (g, hi), a3: (g + 8, hi)
        const float* acc = sc[2 * kk + i / 2] + 2 * (i % 2);
        const uint16_t p0 = Half16<T>::from_float(exp2f(acc[0] - m[i % 2]));
        const uint16_t p1 = Half16<T>::from_float(exp2f(acc[1] - m[i % 2]));
        l[i % 2] += Half16<T>::to_float(p0) + Half16<T>::to_float(p1);
        pa[i] = pack2(p0, p1);
      }
#pragma unroll
      for (int j = 0; j < DT; j += 2) {
        uint32_t b[4];  // tiles: (lo keys, d j), (hi keys, d j), (lo keys, d j + 1), (hi keys, d j + 1)
        ldmatrix_x4_trans(b, &vs[kk * 16 + (tile % 2) * 8 + tile_row][(j + tile / 2) * 8]);
        Half16<T>::mma(o[j], pa, b);
        Half16<T>::mma(o[j + 1], pa, b + 2);
      }
    }
  }

  // Each lane summed its own columns; the row's sum is the quad's.
  const float inv[2] = {1.0f / quad_sum(l[0]), 1.0f / quad_sum(l[1])};
  const int heads_c = blockIdx.y * D;
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int t = q0 + grp + 8 * h;
    if (t >= Tn) continue;
    uint16_t* dst = reinterpret_cast<uint16_t*>(out) + (static_cast<long long>(blockIdx.z) * Tn + t) * C +
                    heads_c + 2 * tig;
#pragma unroll
    for (int j = 0; j < DT; ++j)
      *reinterpret_cast<uint32_t*>(dst + 8 * j) =
          pack2(Half16<T>::from_float(o[j][2 * h] * inv[h]), Half16<T>::from_float(o[j][2 * h + 1] * inv[h]));
  }
}

template <typename T, bool Bias>
void launch_mma(const Tensor& qkv, int64_t heads, int d, const DeviceBias& bias, Tensor& out) {
  const int Tn = static_cast<int>(qkv.size(1)), C = static_cast<int>(qkv.size(2) / 3);
  const dim3 grid((Tn + kMmaQueries - 1) / kMmaQueries, static_cast<unsigned>(heads),
                  static_cast<unsigned>(qkv.size(0)));
  const float scale_log2 = kLog2e / sqrtf(static_cast<float>(d));
  const T* qp = qkv.data<T>();
  T* op = out.data<T>();
  if (d == 16)
    SC_LAUNCH(grid, 32 * kMmaWarps, 0, attention_mma_kernel<T, 16, Bias>)(qp, op, Tn, C, scale_log2, bias);
  else if (d == 32)
    SC_LAUNCH(grid, 32 * kMmaWarps, 0, attention_mma_kernel<T, 32, Bias>)(qp, op, Tn, C, scale_log2, bias);
  else
    SC_LAUNCH(grid, 32 * kMmaWarps, 0, attention_mma_kernel<T, 64, Bias>)(qp, op, Tn, C, scale_log2, bias);
  SC_CUDA_LAUNCH_CHECK("attention_mma_kernel");
}

template <bool Bias>
void launch(const Tensor& qkv, int64_t heads, const DeviceBias& bias, Tensor& out) {
  const int Tn = static_cast<int>(qkv.size(1)), C = static_cast<int>(qkv.size(2) / 3);
  const int d = C / static_cast<int>(heads);
  const auto aligned = [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.raw_data()) % 16 == 0; };
  if (aligned(qkv) && aligned(out)) {
    if (qkv.dtype() == DType::BF16) return launch_mma<BFloat16, Bias>(qkv, heads, d, bias, out);
    if (qkv.dtype() == DType::F16) return launch_mma<Half, Bias>(qkv, heads, d, bias, out);
  }
  const dim3 grid((Tn + kQueries - 1) / kQueries, static_cast<unsigned>(heads),
                  static_cast<unsigned>(qkv.size(0)));
  const float scale = 1.0f / sqrtf(static_cast<float>(d));
  visit_float_storage(qkv.dtype(), "attention_nhwc", [&](auto t) {
    using T = decltype(t);
    const T* qp = qkv.data<T>();
    T* op = out.data<T>();
    if (d == 16)
      SC_LAUNCH(grid, kQueries, 0, attention_nhwc_kernel<T, 16, Bias>)(qp, op, Tn, C, scale, bias);
    else if (d == 32)
      SC_LAUNCH(grid, kQueries, 0, attention_nhwc_kernel<T, 32, Bias>)(qp, op, Tn, C, scale, bias);
    else
      SC_LAUNCH(grid, kQueries, 0, attention_nhwc_kernel<T, 64, Bias>)(qp, op, Tn, C, scale, bias);
  });
  SC_CUDA_LAUNCH_CHECK("attention_nhwc_kernel");
}

}  // namespace

void attention_nhwc(const Tensor& qkv, int64_t heads, const RelativePositionBias& bias, Tensor& out) {
  SC_CHECK(qkv.size(0) < 65536, "attention_nhwc: at most 65535 samples per launch on CUDA");
  if (!bias.table.defined()) return launch<false>(qkv, heads, DeviceBias{}, out);
  DeviceBias b;
  b.table = bias.table.data<float>();
  b.gh = static_cast<int>(bias.grid_h), b.gw = static_cast<int>(bias.grid_w),
  b.heads = static_cast<int>(heads);
  b.width = FastDivisor(b.gw);
  launch<true>(qkv, heads, b, out);
}

}  // namespace sc::cuda
