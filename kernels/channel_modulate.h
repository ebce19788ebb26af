// channel_modulate: y[n, c, ...] = x[n, c, ...] · (1 + scale[n, c]) + shift[n, c], the timestep conditioning of
// diffusion ResBlocks (scale-shift norm); with scale undefined, y = x + shift[n, c] (the plain embedding add).
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
Tensor channel_modulate(const Tensor& x, const Tensor& scale, const Tensor& shift);  // scale, shift: [N, C]
}
namespace cpu {
void channel_modulate(const Tensor& x, const Tensor& scale, const Tensor& shift, Tensor& y);
}
namespace cuda {
void channel_modulate(const Tensor& x, const Tensor& scale, const Tensor& shift, Tensor& y);
}
}  // namespace sc
