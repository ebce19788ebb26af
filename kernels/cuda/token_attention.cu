// One block per (batch·head, query token t), as qkv_attention: the T scores in shared memory, a block-wide
// max and sum for the softmax, then one thread per output channel. The backward pass recomputes each row's
// weights (block per (batch·head, t)), writes dq_t and keeps w[t, ·] and ∂L/∂score[t, ·] in a
// [2, B·heads, T, T] scratch; a second kernel (block per (batch·head, key token s)) sums dk_s and dv_s down
// the column s of both; a third (a thread per (head, t, s)) sums ∂L/∂score over the batch for the relative
// position bias. Simple and exact in float; a tiled tensor-core attention belongs to the performance work.
#include <cmath>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/warp_reduce.cuh"
#include "kernels/relative_position.h"
#include "kernels/token_attention.h"

namespace sc::cuda {

namespace {
// The tokens of batch element b, head h: token t's query at base + t·3C, its key at +C, its value at +2C; the
// relative position table [R, H] of a gh × gw patch grid, or null.
struct Heads {
  int H, d, T;
  const float* table;
  int gh, gw;
  __device__ int C() const { return H * d; }
  __device__ const float* base(const float* qkv, int bh) const {
    return qkv + static_cast<long long>(bh / H) * T * 3 * C() + (bh % H) * d;
  }
  __device__ long long out_offset(int bh, int t) const {
    return (static_cast<long long>(bh / H) * T + t) * C() + (bh % H) * d;
  }
};

// w[s] = softmax_s(q_t · k_s · scale + bias(t, s)) over the block; red: 32 floats.
__device__ void softmax_row(const float* base, int bh, int t, const Heads& g, float scale, float* w,
                            float* red) {
  const int C = g.C();
  const float* q = base + static_cast<long long>(t) * 3 * C;
  float local_max = -INFINITY;
  for (int s = threadIdx.x; s < g.T; s += blockDim.x) {
    const float* k = base + static_cast<long long>(s) * 3 * C + C;
    float acc = 0;
    for (int c = 0; c < g.d; ++c) acc += q[c] * k[c];
    w[s] = acc * scale;
    if (g.table) w[s] += g.table[relative_position_index(t, s, g.gh, g.gw) * g.H + bh % g.H];
    local_max = fmaxf(local_max, w[s]);
  }
  const float m = block_reduce(local_max, red, true);
  float local_sum = 0;
  for (int s = threadIdx.x; s < g.T; s += blockDim.x) local_sum += (w[s] = expf(w[s] - m));
  const float inv = 1.0f / block_reduce(local_sum, red, false);
  for (int s = threadIdx.x; s < g.T; s += blockDim.x) w[s] *= inv;
  __syncthreads();
}

__global__ void token_attention_kernel(const float* qkv, float* out, Heads g, float scale) {
  SC_DYNAMIC_SHARED(float, w);  // T weights, then 32 reduction slots
  const int bh = blockIdx.x, t = blockIdx.y, C = g.C();
  const float* base = g.base(qkv, bh);
  softmax_row(base, bh, t, g, scale, w, w + g.T);
  for (int c = threadIdx.x; c < g.d; c += blockDim.x) {
    float acc = 0;
    for (int s = 0; s < g.T; ++s) acc += w[s] * base[static_cast<long long>(s) * 3 * C + 2 * C + c];
    out[g.out_offset(bh, t) + c] = acc;
  }
}

__global__ void token_attention_dq_kernel(const float* dy, const float* qkv, float* dqkv, float* scratch,
                                          Heads g, float scale) {
  SC_DYNAMIC_SHARED(float, w);  // T weights, T values of ∂L/∂score, 32 reduction slots
  float *dscore = w + g.T, *red = dscore + g.T;
  const int bh = blockIdx.x, t = blockIdx.y, C = g.C();
  const float* base = g.base(qkv, bh);
  softmax_row(base, bh, t, g, scale, w, red);
  const float* grad = dy + g.out_offset(bh, t);
  float local = 0;
  for (int s = threadIdx.x; s < g.T; s += blockDim.x) {
    const float* v = base + static_cast<long long>(s) * 3 * C + 2 * C;
    float acc = 0;
    for (int c = 0; c < g.d; ++c) acc += grad[c] * v[c];
    dscore[s] = acc;
    local += w[s] * acc;
  }
  const float mean = block_reduce(local, red, false);
  const long long plane = static_cast<long long>(gridDim.x) * g.T * g.T,
                  row = (static_cast<long long>(bh) * g.T + t) * g.T;
  for (int s = threadIdx.x; s < g.T; s += blockDim.x) {
    dscore[s] = w[s] * (dscore[s] - mean);
    scratch[row + s] = w[s];
    scratch[plane + row + s] = dscore[s];
  }
  __syncthreads();
  float* out = dqkv + (static_cast<long long>(bh / g.H) * g.T + t) * 3 * C + (bh % g.H) * g.d;
  for (int c = threadIdx.x; c < g.d; c += blockDim.x) {
    float acc = 0;
    for (int s = 0; s < g.T; ++s) acc += dscore[s] * base[static_cast<long long>(s) * 3 * C + C + c];
    out[c] = acc * scale;
  }
}

__global__ void token_attention_dkv_kernel(const float* dy, const float* qkv, float* dqkv,
                                           const float* scratch, Heads g, float scale) {
  const int bh = blockIdx.x, s = blockIdx.y, C = g.C();
  const float* base = g.base(qkv, bh);
  const long long plane = static_cast<long long>(gridDim.x) * g.T * g.T,
                  column = static_cast<long long>(bh) * g.T * g.T + s;
  float* out = dqkv + (static_cast<long long>(bh / g.H) * g.T + s) * 3 * C + (bh % g.H) * g.d;
  for (int c = threadIdx.x; c < g.d; c += blockDim.x) {
    float dk = 0, dv = 0;
    for (int t = 0; t < g.T; ++t) {
      dk += scratch[plane + column + static_cast<long long>(t) * g.T] *
            base[static_cast<long long>(t) * 3 * C + c];
      dv += scratch[column + static_cast<long long>(t) * g.T] * dy[g.out_offset(bh, t) + c];
    }
    out[C + c] = dk * scale;
    out[2 * C + c] = dv;
  }
}

// dbias[h, t, s] = Σ_b ∂L/∂score of (b, h, t, s), from the scratch's second plane, the batch in order.
__global__ void token_attention_dbias_kernel(const float* scratch, float* dbias, long long n, int B,
                                             Heads g) {
  const long long per_head = static_cast<long long>(g.T) * g.T,
                  plane = static_cast<long long>(B) * g.H * per_head;
  SC_GRID_STRIDE_LOOP(i, n) {
    const long long h = i / per_head, ts = i % per_head;
    float sum = 0;
    for (int b = 0; b < B; ++b) sum += scratch[plane + (static_cast<long long>(b) * g.H + h) * per_head + ts];
    dbias[i] = sum;
  }
}

Heads heads_of(const Tensor& qkv, int64_t heads, const RelativePositionBias& bias) {
  const int64_t T = qkv.size(1), d = qkv.size(2) / (3 * heads);
  SC_CHECK(T <= 6000 && qkv.size(0) * heads <= 0x7fffffffLL, "token_attention (CUDA): ", T, " tokens or ",
           qkv.size(0) * heads, " batch·heads are more than this kernel takes");
  Heads g{static_cast<int>(heads), static_cast<int>(d), static_cast<int>(T), nullptr, 0, 0};
  if (bias.table.defined())
    g.table = bias.table.data<float>(), g.gh = static_cast<int>(bias.grid_h),
    g.gw = static_cast<int>(bias.grid_w);
  return g;
}

float scale_of(const Heads& g) {
  return static_cast<float>(1.0 / std::sqrt(static_cast<double>(g.d)));
}
}  // namespace

void token_attention(const Tensor& qkv, int64_t heads, const RelativePositionBias& bias, Tensor& out) {
  const Heads g = heads_of(qkv, heads, bias);
  const dim3 grid(static_cast<unsigned>(qkv.size(0) * heads), static_cast<unsigned>(g.T));
  SC_LAUNCH(grid, kThreads, (g.T + 32) * sizeof(float), token_attention_kernel)
  (qkv.data<float>(), out.data<float>(), g, scale_of(g));
  SC_CUDA_LAUNCH_CHECK("token_attention_kernel");
}

void token_attention_backward(const Tensor& dy, const Tensor& qkv, int64_t heads,
                              const RelativePositionBias& bias, Tensor& dqkv, Tensor* dbias) {
  const Heads g = heads_of(qkv, heads, bias);
  const int64_t bh = qkv.size(0) * heads;
  Tensor scratch = Tensor::empty({2, bh, g.T, g.T}, DType::F32, qkv.device());
  const dim3 grid(static_cast<unsigned>(bh), static_cast<unsigned>(g.T));
  SC_LAUNCH(grid, kThreads, (2 * g.T + 32) * sizeof(float), token_attention_dq_kernel)
  (dy.data<float>(), qkv.data<float>(), dqkv.data<float>(), scratch.data<float>(), g, scale_of(g));
  SC_CUDA_LAUNCH_CHECK("token_attention_dq_kernel");
  SC_LAUNCH(grid, kThreads, 0, token_attention_dkv_kernel)
  (dy.data<float>(), qkv.data<float>(), dqkv.data<float>(), scratch.data<float>(), g, scale_of(g));
  SC_CUDA_LAUNCH_CHECK("token_attention_dkv_kernel");
  if (dbias) {
    const long long n = dbias->numel();
    SC_LAUNCH(grid_for(n), kThreads, 0, token_attention_dbias_kernel)
    (scratch.data<float>(), dbias->data<float>(), n, static_cast<int>(qkv.size(0)), g);
    SC_CUDA_LAUNCH_CHECK("token_attention_dbias_kernel");
  }
}

}  // namespace sc::cuda
