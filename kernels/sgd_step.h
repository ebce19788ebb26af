// sgd_step: one step of stochastic gradient descent with momentum on a parameter, in place (PyTorch's
// torch.optim.SGD with dampening 0):
//   d = grad + weight_decay · param
//   buffer = momentum · buffer + d          (a buffer that starts at 0 gives PyTorch's first step, buffer =
//   d) param −= lr · (nesterov ? d + momentum · buffer : buffer)
// With momentum 0 the buffer is neither read nor written (it may be undefined).
#pragma once
#include "nn/tensor.h"

namespace sc {

struct SgdParams {
  double lr = 0.1, momentum = 0.9, weight_decay = 0.0;
  bool nesterov = false;
};

namespace ops {
void sgd_step(Tensor& param, const Tensor& grad, Tensor& buffer, const SgdParams& p);
}
namespace cpu {
void sgd_step(Tensor& param, const Tensor& grad, Tensor& buffer, const SgdParams& p);
}
namespace cuda {
void sgd_step(Tensor& param, const Tensor& grad, Tensor& buffer, const SgdParams& p);
}
}  // namespace sc
