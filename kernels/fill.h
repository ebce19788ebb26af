// fill: sets every element of a tensor (any dtype, any strides) to a value.
#pragma once
#include "nn/tensor.h"

namespace sc::ops {
void fill(Tensor& t, float value);
}
namespace sc::cpu {
void fill(Tensor& t, float value);  // contiguous t
}
namespace sc::cuda {
void fill(Tensor& t, float value);  // contiguous t
}
