// adaptive_avg_pool2d: output cell (i, j) averages input rows [⌊i·H/Ho⌋, ⌈(i+1)·H/Ho⌉) and the same for
// columns (PyTorch's AdaptiveAvgPool2d). Output 1×1 is global average pooling. Its input gradient spreads
// each dy over its cell's window, divided by the window's size.
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
Tensor adaptive_avg_pool2d(const Tensor& x, int64_t out_h, int64_t out_w);
Tensor adaptive_avg_pool2d_backward(const Tensor& dy, int64_t x_h, int64_t x_w);
}  // namespace ops
namespace cpu {
void adaptive_avg_pool2d(const Tensor& x, Tensor& y);
void adaptive_avg_pool2d_backward(const Tensor& dy, Tensor& dx);
}  // namespace cpu
namespace cuda {
void adaptive_avg_pool2d(const Tensor& x, Tensor& y);
void adaptive_avg_pool2d_backward(const Tensor& dy, Tensor& dx);
}  // namespace cuda
}  // namespace sc
