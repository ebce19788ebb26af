// Shared validation for ops that take per-channel vectors ([C] float32 tensors on x's device).
#pragma once
#include "nn/tensor.h"

namespace sc {

// x must be contiguous float32 with dim ≥ 2; each vector must be [x.size(1)] float32 on x's device.
void check_per_channel(const Tensor& x, std::initializer_list<std::pair<const Tensor*, const char*>> vectors,
                       const char* op);
// Elements per (n, c) plane: numel / (N · C).
int64_t plane_size(const Tensor& x);

}  // namespace sc
