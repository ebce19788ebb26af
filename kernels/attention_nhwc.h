// attention_nhwc: the fast denoiser's multi-head self-attention over the H·W positions of an NHWC map, in the
// legacy [q | k | v]-per-head channel layout of improved/guided-diffusion (see qkv_attention.h):
//   qkv [N, T, 3·C] (the 1×1 qkv convolution's NHWC output), d = C/heads, for head h and position t:
//   q = qkv[n, t, 3dh : 3dh + d], k = qkv[n, ·, 3dh + d : 3dh + 2d], v = qkv[n, ·, 3dh + 2d : 3dh + 3d]
//   out[n, t, dh + j] = Σ_s softmax_s(q·k_s / √d) v_s[j]
// qkv and out share one dtype (float32, bfloat16 or float16); scores, softmax and sums are float, and the
// softmax weights are rounded to the storage type before they multiply v, as the tensor cores take them
// (CUDA: tensor cores for bfloat16/float16, CUDA cores for float32; online softmax; d ∈ {16, 32, 64}).
// With a relative position bias (BEiT; kernels/relative_position.h, T = gh·gw + 1 positions: the class token
// and the patches) the scores gain table[row(t, s), h] before the softmax.
#pragma once
#include "kernels/relative_position.h"
#include "nn/tensor.h"

namespace sc {
namespace ops {
// out [N, T, C] preallocated.
void attention_nhwc(const Tensor& qkv, int64_t heads, Tensor& out, const RelativePositionBias& bias = {});
bool attention_nhwc_supports(int64_t head_channels);  // on CUDA
}  // namespace ops
namespace cpu {
void attention_nhwc(const Tensor& qkv, int64_t heads, const RelativePositionBias& bias, Tensor& out);
}
namespace cuda {
void attention_nhwc(const Tensor& qkv, int64_t heads, const RelativePositionBias& bias, Tensor& out);
}
}  // namespace sc
