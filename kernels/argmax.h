// argmax over the last dimension of [N, C] → int64 [N]; ties go to the lowest index (numpy/PyTorch and
// Cohen's certify both rely on that), and a NaN counts as the maximum.
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
Tensor argmax(const Tensor& x);
}
namespace cpu {
void argmax(const Tensor& x, Tensor& y);
}
namespace cuda {
void argmax(const Tensor& x, Tensor& y);
}
}  // namespace sc
