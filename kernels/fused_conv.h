// fused_conv: the fast path's convolution on NHWC activations, with the elementwise work around it fused in:
//   y[n, oh, ow, o] = act( bias[o] + Σ_{r,s,c} w[o, r, s, c] · pro(x[n, ih, iw, c]) + res(n, oh, ow, o) )
//   ih = oh·sh − ph + r, iw = ow·sw − pw + s
//   pro(v) = act_in(scale[c]·v + shift[c]) inside the image and 0 in the padding (BatchNorm + ReLU of a
//            pre-activation block, applied to the map the convolution pads); identity without scale/shift
//   res(n, oh, ow, o) = r[n, oh·rs, ow·rs, o − roff] for roff ≤ o < roff + Cr, else 0: an identity shortcut
//            (rs = 1, roff = 0) or the option-A shortcut (x[:, :, ::2, ::2] with zero channels on both sides)
// act is ReLU, the exact GELU (a transformer MLP's first layer) or the identity. A BatchNorm after the
// convolution is folded into w and bias by the planner. x, w, residual and y share one dtype: float32,
// bfloat16 or float16; products are accumulated in float32. With tf32 (float32 only), both operands are
// rounded to TF32 (10-bit mantissa, ties away) before the products, as a TF32 tensor-core product does.
#pragma once
#include "nn/tensor.h"

namespace sc {

struct FusedConvParams {
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  bool relu = false;           // on the output
  bool gelu = false;           // on the output instead (fused_conv only)
  bool prologue_relu = false;  // on the transformed input (needs scale/shift)
  int64_t residual_stride = 1;
  int64_t residual_channel_offset = 0;
  bool tf32 = false;
  // noisy_input_conv only: the normalized noisy input and the weights rounded to y's 16-bit type before the
  // products (summed in float32), as tensor cores take them; without it both stay float32.
  bool round_operands = false;
};

namespace ops {
// x [N, H, W, C], w [O, KH, KW, C], bias [O] float32 (or undefined), scale/shift [C] float32 (both or
// neither), residual [N, Hr, Wr, Cr] (or undefined), y [N, Ho, Wo, O] preallocated (every element is
// written).
void fused_conv(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                const Tensor& shift, const Tensor& residual, const FusedConvParams& p, Tensor& y);
// A fresh output of the right shape.
Tensor fused_conv(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                  const Tensor& shift, const Tensor& residual, const FusedConvParams& p);
}  // namespace ops
namespace cpu {
void fused_conv(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                const Tensor& shift, const Tensor& residual, const FusedConvParams& p, Tensor& y);
}
namespace cuda {
void fused_conv(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                const Tensor& shift, const Tensor& residual, const FusedConvParams& p, Tensor& y);
// Whether fused_conv runs these operands (device tensors) on Hopper's wgmma kernel: 16-bit, C and O
// multiples of 64, no prologue (scale undefined), not a halo-kernel layer, SMOOTHCUDA_WGMMA on
// (nn/runtime.h), an sm_90a build on a compute-capability-9.0 device.
bool fused_conv_uses_wgmma(const Tensor& x, const Tensor& w, const Tensor& scale, const FusedConvParams& p,
                           const Tensor& y);
}

}  // namespace sc
