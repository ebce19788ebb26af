// strided_copy: dst[i] = src[i] elementwise over two same-shape, same-dtype tensors on one device,
// either of which may be a strided view (slice, permute). Used by Tensor::copy_ and contiguous().
#pragma once
#include "nn/tensor.h"

namespace sc::ops {
void strided_copy(const Tensor& src, Tensor& dst);
}
namespace sc::cpu {
void strided_copy(const Tensor& src, Tensor& dst);
}
namespace sc::cuda {
void strided_copy(const Tensor& src, Tensor& dst);
}
