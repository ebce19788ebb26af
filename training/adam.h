// Adam over a model's parameters (torch.optim.Adam, amsgrad off, weight decay as an L2 term), as Salman et
// al. train their denoisers (lr 1e-3, weight decay 1e-4).
#pragma once
#include <map>
#include <string>

#include "kernels/adam_step.h"
#include "training/optimizer.h"

namespace sc::training {

class Adam : public Optimizer {
 public:
  explicit Adam(AdamParams params);
  // ops::adam_step for each parameter with a gradient, at its own step count (PyTorch's per-parameter
  // "step"). The moments start at zero, on the parameter's device, at its first step.
  void step(Module& model, const ParameterGradients& grads, double lr) override;
  // "exp_avg.<key>", "exp_avg_sq.<key>" and "step.<key>" (an int64 scalar).
  std::vector<std::pair<std::string, Tensor>> state() const override;
  void load_state(const std::vector<std::pair<std::string, Tensor>>& state, Module& model) override;
  const AdamParams& params() const { return params_; }

 private:
  struct Moments {
    Tensor exp_avg, exp_avg_sq;
    int64_t steps = 0;
  };
  AdamParams params_;
  std::map<std::string, Moments> moments_;
};

}  // namespace sc::training
