// softmax and log_softmax over the last dimension of an [N, C] tensor, computed stably:
// softmax_i = exp(x_i − max) / Σ_j exp(x_j − max); log_softmax_i = x_i − max − log Σ_j exp(x_j − max).
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
Tensor softmax(const Tensor& x);
Tensor log_softmax(const Tensor& x);
}  // namespace ops
namespace cpu {
void softmax(const Tensor& x, bool log, Tensor& y);
}
namespace cuda {
void softmax(const Tensor& x, bool log, Tensor& y);
}
}  // namespace sc
