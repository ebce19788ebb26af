// Stochastic gradient descent with momentum and weight decay over a model's parameters (torch.optim.SGD with
// dampening 0), and the step learning-rate schedule of the reference training scripts (StepLR).
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "kernels/sgd_step.h"
#include "training/optimizer.h"

namespace sc::training {

class Sgd : public Optimizer {
 public:
  explicit Sgd(SgdParams params);
  // ops::sgd_step for each parameter with a gradient. Momentum buffers start at zero, on the parameter's
  // device, at its first step.
  void step(Module& model, const ParameterGradients& grads, double lr) override;
  // The momentum buffers, "momentum.<key>".
  std::vector<std::pair<std::string, Tensor>> state() const override;
  void load_state(const std::vector<std::pair<std::string, Tensor>>& buffers, Module& model) override;
  const SgdParams& params() const { return params_; }

 private:
  SgdParams params_;
  std::map<std::string, Tensor> momentum_;
};

// StepLR: lr · gamma^⌊epoch / step_size⌋ (epochs counted from 0).
double step_learning_rate(double lr, double gamma, int64_t step_size, int64_t epoch);

}  // namespace sc::training
