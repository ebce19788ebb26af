// max_pool2d_nhwc: max pooling of NHWC activations (PyTorch's MaxPool2d semantics: floor mode, padding never
// wins, NaN propagates), for the fast path (ResNet-50's stem, LeNet). float32, bfloat16 or float16; the
// result is one of the inputs, so no rounding happens.
#pragma once
#include "kernels/pool2d.h"

namespace sc {
namespace ops {
// x [N, H, W, C] → y [N, Ho, Wo, C] preallocated.
void max_pool2d_nhwc(const Tensor& x, const Pool2dParams& p, Tensor& y);
Shape max_pool2d_nhwc_shape(const Tensor& x, const Pool2dParams& p);
}  // namespace ops
namespace cpu {
void max_pool2d_nhwc(const Tensor& x, const Pool2dParams& p, Tensor& y);
}
namespace cuda {
void max_pool2d_nhwc(const Tensor& x, const Pool2dParams& p, Tensor& y);
}
}  // namespace sc
