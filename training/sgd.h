// Stochastic gradient descent with momentum and weight decay over a model's parameters (torch.optim.SGD with
// dampening 0), and the step learning-rate schedule of the reference training scripts (StepLR).
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "kernels/sgd_step.h"
#include "nn/module.h"

namespace sc::training {

class Sgd {
 public:
  explicit Sgd(SgdParams params);
  // One step (ops::sgd_step, at learning rate lr) for every tensor of `model` that `grads` holds a gradient
  // of; the others (buffers, parameters no loss reached) are left alone, as PyTorch skips a missing grad.
  // Momentum buffers start at zero, on the parameter's device, at its first step.
  void step(Module& model, const ParameterGradients& grads, double lr);
  // The momentum buffers by parameter key, for a checkpoint; load_state puts them back (moved to each
  // parameter's device, shapes checked against `model`).
  std::vector<std::pair<std::string, Tensor>> state() const;
  void load_state(const std::vector<std::pair<std::string, Tensor>>& buffers, Module& model);
  const SgdParams& params() const { return params_; }

 private:
  SgdParams params_;
  std::map<std::string, Tensor> momentum_;
};

// StepLR: lr · gamma^⌊epoch / step_size⌋ (epochs counted from 0).
double step_learning_rate(double lr, double gamma, int64_t step_size, int64_t epoch);

}  // namespace sc::training
