// token_attention: multi-head self-attention over the tokens of a transformer (ViT), tokens as rows.
// qkv: [B, T, 3·C], each token's queries, keys and values side by side ([q | k | v], C each), head h owning
// channels [h·d, (h+1)·d) of each, d = C/heads. For each batch element and head:
//   w[t, s] = softmax_s(q_t · k_s / √d),   out_t = Σ_s w[t, s]·v_s   → out [B, T, C] (heads side by side).
// Its backward, for dy = ∂L/∂out, with dw[t, s] = dy_t · v_s and dz[t, s] = w[t, s]·(dw[t, s] − Σ_s' w[t,
// s']·dw[t, s']):
//   dq_t = Σ_s dz[t, s]·k_s/√d,   dk_s = Σ_t dz[t, s]·q_t/√d,   dv_s = Σ_t w[t, s]·dy_t   → dqkv [B, T, 3·C].
// With a relative position bias (BEiT; kernels/relative_position.h) the scores gain table[index(t, s), h]
// before the softmax, and the backward pass can also give Σ_b dz[t, s]·√d per head, [heads, T, T]: the
// gradient of the biases each pair read (the table's gradient gathers it by index). The CPU reference sums in
// double.
#pragma once
#include "kernels/relative_position.h"
#include "nn/tensor.h"

namespace sc {

namespace ops {
Tensor token_attention(const Tensor& qkv, int64_t heads, const RelativePositionBias& bias = {});
// dbias: when not null, receives Σ over the batch of ∂L/∂score [heads, T, T].
Tensor token_attention_backward(const Tensor& dy, const Tensor& qkv, int64_t heads,
                                const RelativePositionBias& bias = {}, Tensor* dbias = nullptr);
}  // namespace ops
namespace cpu {
void token_attention(const Tensor& qkv, int64_t heads, const RelativePositionBias& bias, Tensor& out);
void token_attention_backward(const Tensor& dy, const Tensor& qkv, int64_t heads,
                              const RelativePositionBias& bias, Tensor& dqkv, Tensor* dbias);
}  // namespace cpu
namespace cuda {
void token_attention(const Tensor& qkv, int64_t heads, const RelativePositionBias& bias, Tensor& out);
void token_attention_backward(const Tensor& dy, const Tensor& qkv, int64_t heads,
                              const RelativePositionBias& bias, Tensor& dqkv, Tensor* dbias);
}  // namespace cuda
}  // namespace sc
