// channel_sums: s[c] = Σ over every axis but the channel axis of x ([N, C] or [N, C, H, W]), summed in
// double. The bias gradient of a convolution or linear layer (Σ dy over the batch and the pixels).
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
Tensor channel_sums(const Tensor& x);
}
namespace cpu {
void channel_sums(const Tensor& x, Tensor& s);
}
namespace cuda {
void channel_sums(const Tensor& x, Tensor& s);
}
}  // namespace sc
