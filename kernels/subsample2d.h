// subsample2d: y = x[:, :, ::stride, ::stride] (every stride-th row and column, starting at 0), so the
// output is ⌈H/stride⌉ × ⌈W/stride⌉. Its input gradient puts dy back on those pixels of an H × W map and
// zeros everywhere else.
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
Tensor subsample2d(const Tensor& x, int64_t stride);
Tensor subsample2d_backward(const Tensor& dy, int64_t x_h, int64_t x_w, int64_t stride);
}  // namespace ops
namespace cpu {
void subsample2d(const Tensor& x, int64_t stride, Tensor& y);
void subsample2d_backward(const Tensor& dy, int64_t stride, Tensor& dx);
}  // namespace cpu
namespace cuda {
void subsample2d(const Tensor& x, int64_t stride, Tensor& y);
void subsample2d_backward(const Tensor& dy, int64_t stride, Tensor& dx);
}  // namespace cuda
}  // namespace sc
