// patch_tokens: a ViT's first tokens. patches: the patch convolution's output [B, C, P] (NCHW, P = h·w
// patches in row-major order); cls [C] the class token; pos [P + 1, C] the position embeddings. Returns
// tokens [B, P + 1, C]: token 0 = cls + pos[0], token 1 + p = patches[:, :, p] + pos[1 + p] (the transpose to
// tokens as rows, the class token and the positions in one pass). Its backward, for dy = ∂L/∂tokens:
//   dpatches[b, c, p] = dy[b, 1 + p, c],   dpos[t] = Σ_b dy[b, t],   dcls = dpos[0].
// patch_tokens_nhwc takes the patches as rows [B, P, C] (an NHWC convolution's output) in float32, bfloat16
// or float16 and gives the tokens in that type (the sums in float; the fast transformer's first step).
#pragma once
#include "nn/tensor.h"

namespace sc {

struct PatchTokenGradients {
  Tensor dpatches, dcls, dpos;
};

namespace ops {
Tensor patch_tokens(const Tensor& patches, const Tensor& cls, const Tensor& pos);
Tensor patch_tokens_nhwc(const Tensor& patches, const Tensor& cls, const Tensor& pos);
PatchTokenGradients patch_tokens_backward(const Tensor& dy);
}  // namespace ops
namespace cpu {
// channels_last: patches [B, P, C] (any float storage, as tokens); else [B, C, P] float32.
void patch_tokens(const Tensor& patches, const Tensor& cls, const Tensor& pos, bool channels_last,
                  Tensor& tokens);
void patch_tokens_backward(const Tensor& dy, Tensor& dpatches, Tensor& dpos);
}  // namespace cpu
namespace cuda {
// channels_last: patches [B, P, C] (any float storage, as tokens); else [B, C, P] float32.
void patch_tokens(const Tensor& patches, const Tensor& cls, const Tensor& pos, bool channels_last,
                  Tensor& tokens);
void patch_tokens_backward(const Tensor& dy, Tensor& dpatches, Tensor& dpos);
}  // namespace cuda

}  // namespace sc
