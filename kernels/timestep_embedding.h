// timestep_embedding: emb[n] = [cos(t_n·f_0), …, cos(t_n·f_{h−1}), sin(t_n·f_0), …, sin(t_n·f_{h−1})] with
// h = dim/2 and f_i = exp(−ln(max_period)·i/h) (improved/guided-diffusion; cos first; a zero column pads odd dim).
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
Tensor timestep_embedding(const Tensor& t, int64_t dim, double max_period = 10000.0);  // t: float32 [N]
}
namespace cpu {
void timestep_embedding(const Tensor& t, double max_period, Tensor& y);
}
namespace cuda {
void timestep_embedding(const Tensor& t, double max_period, Tensor& y);
}
}  // namespace sc
