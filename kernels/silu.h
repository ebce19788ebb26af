// silu: y = x · sigmoid(x) = x / (1 + e^(−x)).
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
Tensor silu(const Tensor& x);
}
namespace cpu {
void silu(const Tensor& x, Tensor& y);
}
namespace cuda {
void silu(const Tensor& x, Tensor& y);
}
}  // namespace sc
