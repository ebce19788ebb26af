// last_dim_affine: y[..., c] = x[..., c]·scale[c] + shift[c] over the last dimension C of x (every other
// index a row); either vector may be undefined (then 1 or 0). A transformer's per-channel scalings and biases
// on tokens as rows: BEiT's layer scale (γ ⊙ branch) and its query/value biases on the fused qkv projection.
// Its backward: dx = dy·scale (this op again), dscale = Σ_rows dy·x and dshift = Σ_rows dy (channel_sums of
// [rows, C]).
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
Tensor last_dim_affine(const Tensor& x, const Tensor& scale, const Tensor& shift);
}
namespace cpu {
void last_dim_affine(const Tensor& x, const Tensor& scale, const Tensor& shift, Tensor& y);
}
namespace cuda {
void last_dim_affine(const Tensor& x, const Tensor& scale, const Tensor& shift, Tensor& y);
}
}  // namespace sc
