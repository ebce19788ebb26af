// pool2d_nhwc: max or average pooling of NHWC activations with PyTorch's semantics (floor mode; max: padding
// never wins, NaN propagates, the result is one of the inputs; average: the sum in float32 over the window
// divided by its full size, padding counted as in AvgPool2d's count_include_pad=True, rounded once). For the
// fast paths: ResNet-50's stem and LeNet (max), guided-diffusion's resampling ResBlocks (2×2 average).
// float32, bfloat16 or float16.
#pragma once
#include "kernels/pool2d.h"

namespace sc {
namespace ops {
// x [N, H, W, C] → y [N, Ho, Wo, C] of x's dtype, preallocated.
void pool2d_nhwc(PoolKind kind, const Tensor& x, const Pool2dParams& p, Tensor& y);
Shape pool2d_nhwc_shape(const Tensor& x, const Pool2dParams& p);
}  // namespace ops
namespace cpu {
void pool2d_nhwc(PoolKind kind, const Tensor& x, const Pool2dParams& p, Tensor& y);
}
namespace cuda {
void pool2d_nhwc(PoolKind kind, const Tensor& x, const Pool2dParams& p, Tensor& y);
}
}  // namespace sc
