// channel_normalize: y = (x − mean[c]) / std[c], the per-channel input normalization that is every
// classifier's first layer (so that smoothing noise is added in [0,1] pixel space before it).
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
Tensor channel_normalize(const Tensor& x, const Tensor& mean, const Tensor& std);
}
namespace cpu {
void channel_normalize(const Tensor& x, const Tensor& mean, const Tensor& std, Tensor& y);
}
namespace cuda {
void channel_normalize(const Tensor& x, const Tensor& mean, const Tensor& std, Tensor& y);
}
}  // namespace sc
