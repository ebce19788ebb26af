// cast: converts a contiguous tensor's elements into another contiguous tensor of the same shape and
// another dtype. Floats round to nearest even into f16/bf16; floats into integers truncate toward zero.
#pragma once
#include "nn/tensor.h"

namespace sc::ops {
void cast(const Tensor& src, Tensor& dst);
}
namespace sc::cpu {
void cast(const Tensor& src, Tensor& dst);
}
namespace sc::cuda {
void cast(const Tensor& src, Tensor& dst);
}
