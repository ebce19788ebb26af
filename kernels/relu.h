// relu: y = max(x, 0), NaN passed through (as PyTorch).
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
Tensor relu(const Tensor& x);
}
namespace cpu {
void relu(const Tensor& x, Tensor& y);
}
namespace cuda {
void relu(const Tensor& x, Tensor& y);
}
}  // namespace sc
