// fill: sets every element of a tensor (any dtype, any strides) to a value; increment adds to a contiguous
// int64 tensor in place (counters that live on the model's device, such as BatchNorm's batch count, without a
// copy to the host).
#pragma once
#include "nn/tensor.h"

namespace sc::ops {
void fill(Tensor& t, float value);
void increment(Tensor& t, int64_t by);
}  // namespace sc::ops
namespace sc::cpu {
void fill(Tensor& t, float value);  // contiguous t
void increment(Tensor& t, int64_t by);
}  // namespace sc::cpu
namespace sc::cuda {
void fill(Tensor& t, float value);  // contiguous t
void increment(Tensor& t, int64_t by);
}  // namespace sc::cuda
