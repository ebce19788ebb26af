// pooled_linear: the fast path's classifier head, global average pooling and the linear layer in one pass:
//   logits[n, k] = bias[k] + Σ_c w[k, c] · (1/(H·W)) Σ_{h,w} pro(x[n, h, w, c])
// with pro(v) = act(scale[c]·v + shift[c]) (a final BatchNorm + ReLU, as in WideResNet) or the identity.
// x is NHWC float32, bfloat16 or float16; weights, bias and logits are float32 and the sums are float32.
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
// x [N, H, W, C], w [K, C], bias [K] or undefined, scale/shift [C] (both or neither), logits [N, K]
// preallocated.
void pooled_linear(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                   const Tensor& shift, bool prologue_relu, Tensor& logits);
}  // namespace ops
namespace cpu {
void pooled_linear(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                   const Tensor& shift, bool prologue_relu, Tensor& logits);
}
namespace cuda {
void pooled_linear(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                   const Tensor& shift, bool prologue_relu, Tensor& logits);
}
}  // namespace sc
