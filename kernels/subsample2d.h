// subsample2d: y = x[:, :, ::stride, ::stride] (every stride-th row and column, starting at 0), so the
// output is ⌈H/stride⌉ × ⌈W/stride⌉.
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
Tensor subsample2d(const Tensor& x, int64_t stride);
}
namespace cpu {
void subsample2d(const Tensor& x, int64_t stride, Tensor& y);
}
namespace cuda {
void subsample2d(const Tensor& x, int64_t stride, Tensor& y);
}
}  // namespace sc
