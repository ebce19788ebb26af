// pad_channels: y = x with `before` zero channels in front and `after` behind ([N, C, H, W] →
// [N, before + C + after, H, W]); with subsample2d, the parameter-free "option A" ResNet shortcut.
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
Tensor pad_channels(const Tensor& x, int64_t before, int64_t after);
}
namespace cpu {
void pad_channels(const Tensor& x, int64_t before, Tensor& y);
}
namespace cuda {
void pad_channels(const Tensor& x, int64_t before, Tensor& y);
}
}  // namespace sc
