// token_attention: multi-head self-attention over the tokens of a transformer (ViT), tokens as rows.
// qkv: [B, T, 3·C], each token's queries, keys and values side by side ([q | k | v], C each), head h owning
// channels [h·d, (h+1)·d) of each, d = C/heads. For each batch element and head:
//   w[t, s] = softmax_s(q_t · k_s / √d),   out_t = Σ_s w[t, s]·v_s   → out [B, T, C] (heads side by side).
// Its backward, for dy = ∂L/∂out, with dw[t, s] = dy_t · v_s and dz[t, s] = w[t, s]·(dw[t, s] − Σ_s' w[t,
// s']·dw[t, s']):
//   dq_t = Σ_s dz[t, s]·k_s/√d,   dk_s = Σ_t dz[t, s]·q_t/√d,   dv_s = Σ_t w[t, s]·dy_t   → dqkv [B, T, 3·C].
// The CPU reference sums in double.
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
Tensor token_attention(const Tensor& qkv, int64_t heads);
Tensor token_attention_backward(const Tensor& dy, const Tensor& qkv, int64_t heads);
}  // namespace ops
namespace cpu {
void token_attention(const Tensor& qkv, int64_t heads, Tensor& out);
void token_attention_backward(const Tensor& dy, const Tensor& qkv, int64_t heads, Tensor& dqkv);
}  // namespace cpu
namespace cuda {
void token_attention(const Tensor& qkv, int64_t heads, Tensor& out);
void token_attention_backward(const Tensor& dy, const Tensor& qkv, int64_t heads, Tensor& dqkv);
}  // namespace cuda
}  // namespace sc
