// upsample_nearest2x_nhwc: y[n, i, j, c] = x[n, ⌊i/2⌋, ⌊j/2⌋, c] on NHWC maps of any element type (the fast
// denoiser's Upsample before its convolution).
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
// x [N, H, W, C]; y [N, 2H, 2W, C] of x's dtype, preallocated.
void upsample_nearest2x_nhwc(const Tensor& x, Tensor& y);
}  // namespace ops
namespace cpu {
void upsample_nearest2x_nhwc(const Tensor& x, Tensor& y);
}
namespace cuda {
void upsample_nearest2x_nhwc(const Tensor& x, Tensor& y);
}
}  // namespace sc
