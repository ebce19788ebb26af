// upsample_nearest2x: y[n, c, i, j] = x[n, c, ⌊i/2⌋, ⌊j/2⌋] (F.interpolate(scale_factor=2, mode="nearest")).
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
Tensor upsample_nearest2x(const Tensor& x);
}
namespace cpu {
void upsample_nearest2x(const Tensor& x, Tensor& y);
}
namespace cuda {
void upsample_nearest2x(const Tensor& x, Tensor& y);
}
}  // namespace sc
