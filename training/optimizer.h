// What a training loop needs of an optimizer: one step over a model's parameters from their gradients, and
// the per-parameter state a checkpoint keeps. Two of them: Sgd (training/sgd.h) and Adam (training/adam.h).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "nn/module.h"

namespace sc::training {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // One step at learning rate lr for every tensor of `model` that `grads` holds a gradient of; the others
  // (buffers, parameters no loss reached) are left alone, as PyTorch skips a missing grad.
  virtual void step(Module& model, const ParameterGradients& grads, double lr) = 0;
  // The state by name, "<what>.<parameter key>" (SGD: "momentum.fc.weight"); load_state puts it back, moved
  // to each parameter's device, and fails naming a tensor that does not fit `model`.
  virtual std::vector<std::pair<std::string, Tensor>> state() const = 0;
  virtual void load_state(const std::vector<std::pair<std::string, Tensor>>& state, Module& model) = 0;
};

// The parameter of `model` that a state entry "<kind>.<key>" belongs to (kind: one of `kinds`); fails
// naming the entry when its kind is unknown or its key names no tensor of the model.
struct StateEntry {
  std::string kind, key;
  Tensor* param;
};
StateEntry find_state_entry(const std::string& name, const std::vector<std::string>& kinds, Module& model,
                            const std::string& optimizer);

}  // namespace sc::training
