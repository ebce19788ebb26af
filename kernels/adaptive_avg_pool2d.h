// adaptive_avg_pool2d: output cell (i, j) averages input rows [⌊i·H/Ho⌋, ⌈(i+1)·H/Ho⌉) and the same for
// columns (PyTorch's AdaptiveAvgPool2d). Output 1×1 is global average pooling.
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
Tensor adaptive_avg_pool2d(const Tensor& x, int64_t out_h, int64_t out_w);
}
namespace cpu {
void adaptive_avg_pool2d(const Tensor& x, Tensor& y);
}
namespace cuda {
void adaptive_avg_pool2d(const Tensor& x, Tensor& y);
}
}  // namespace sc
