// qkv_attention: multi-head self-attention over positions in the "legacy" layout of improved/guided-diffusion.
// qkv: [B, 3·C, T], split per head into [q | k | v] blocks of C/heads channels each; with d = C/heads,
// w[t, s] = softmax_s(Σ_c q[c, t]·k[c, s] / √d) (q and k each scaled by d^(−1/4), softmax in float),
// out[c, t] = Σ_s w[t, s]·v[c, s]. Returns [B, C, T].
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
Tensor qkv_attention(const Tensor& qkv, int64_t heads);
}
namespace cpu {
void qkv_attention(const Tensor& qkv, int64_t heads, Tensor& out);
}
namespace cuda {
void qkv_attention(const Tensor& qkv, int64_t heads, Tensor& out);
}
}  // namespace sc
