// resize_bicubic: antialiased bicubic resizing of [N, C, H, W] to [N, C, out_h, out_w], as
// F.interpolate(mode="bicubic", antialias=True, align_corners=False): a separable cubic filter (a = −0.5) whose
// support widens with the scale when shrinking, weights normalized to sum 1; horizontal pass, then vertical.
// Used between a diffusion denoiser and a classifier that expects another image size.
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
Tensor resize_bicubic(const Tensor& x, int64_t out_h, int64_t out_w);
}
namespace cpu {
void resize_bicubic_axis(const Tensor& x, int axis, Tensor& y);  // axis 3 (width) or 2 (height)
}
namespace cuda {
void resize_bicubic_axis(const Tensor& x, int axis, Tensor& y);
}
}  // namespace sc
