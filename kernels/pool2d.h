// avg_pool2d and max_pool2d over NCHW windows (PyTorch semantics, floor mode). Average pooling counts the
// zero padding in the divisor (count_include_pad=True, PyTorch's default); max pooling ignores padding.
// Input gradients: average pooling spreads each dy over its window (divided by the window's size); max
// pooling gives each dy to the element its window picked (pool2d_window.h), so overlapping windows may add
// up.
#pragma once
#include "nn/tensor.h"

namespace sc {

struct Pool2dParams {
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  static Pool2dParams square(int64_t kernel, int64_t stride, int64_t pad = 0) {
    return {kernel, kernel, stride, stride, pad, pad};
  }
};

enum class PoolKind { Avg, Max };

namespace ops {
Tensor avg_pool2d(const Tensor& x, const Pool2dParams& p);
Tensor max_pool2d(const Tensor& x, const Pool2dParams& p);
Tensor avg_pool2d_backward(const Tensor& dy, int64_t x_h, int64_t x_w, const Pool2dParams& p);
Tensor max_pool2d_backward(const Tensor& dy, const Tensor& x, const Pool2dParams& p);
}  // namespace ops
// Backward: x is the forward's input for Max, undefined for Avg (dx has its shape).
namespace cpu {
void pool2d(PoolKind kind, const Tensor& x, const Pool2dParams& p, Tensor& y);
void pool2d_backward(PoolKind kind, const Tensor& dy, const Tensor& x, const Pool2dParams& p, Tensor& dx);
}  // namespace cpu
namespace cuda {
void pool2d(PoolKind kind, const Tensor& x, const Pool2dParams& p, Tensor& y);
void pool2d_backward(PoolKind kind, const Tensor& dy, const Tensor& x, const Pool2dParams& p, Tensor& dx);
}  // namespace cuda
}  // namespace sc
