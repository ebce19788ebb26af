// avg_pool2d and max_pool2d over NCHW windows (PyTorch semantics, floor mode). Average pooling counts the
// zero padding in the divisor (count_include_pad=True, PyTorch's default); max pooling ignores padding.
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
}  // namespace ops
namespace cpu {
void pool2d(PoolKind kind, const Tensor& x, const Pool2dParams& p, Tensor& y);
}
namespace cuda {
void pool2d(PoolKind kind, const Tensor& x, const Pool2dParams& p, Tensor& y);
}
}  // namespace sc
