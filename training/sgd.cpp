#include "training/sgd.h"

#include <cmath>

namespace sc::training {

Sgd::Sgd(SgdParams params) : params_(params) {
  // ops::sgd_step checks the same per step; a bad option should fail before the first epoch.
  SC_CHECK(std::isfinite(params.lr) && params.lr >= 0, "SGD: the learning rate must be finite and ≥ 0, got ",
           params.lr);
  SC_CHECK(std::isfinite(params.momentum) && params.momentum >= 0 && params.momentum < 1,
           "SGD: momentum must be in [0, 1), got ", params.momentum);
  SC_CHECK(std::isfinite(params.weight_decay) && params.weight_decay >= 0,
           "SGD: weight decay must be finite and ≥ 0, got ", params.weight_decay);
  SC_CHECK(!params.nesterov || params.momentum > 0, "SGD: Nesterov momentum needs a momentum above 0");
}

void Sgd::step(Module& model, const ParameterGradients& grads, double lr) {
  SgdParams p = params_;
  p.lr = lr;
  for (auto& [key, tensor] : model.named_tensors()) {
    const Tensor* g = grads.find(*tensor);
    if (g == nullptr) continue;
    Tensor& buffer = momentum_[key];
    if (p.momentum > 0 && !buffer.defined())
      buffer = Tensor::zeros(tensor->shape(), DType::F32, tensor->device());
    ops::sgd_step(*tensor, *g, buffer, p);
  }
}

std::vector<std::pair<std::string, Tensor>> Sgd::state() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [key, buffer] : momentum_)
    if (buffer.defined()) out.emplace_back("momentum." + key, buffer.cpu());
  return out;
}

void Sgd::load_state(const std::vector<std::pair<std::string, Tensor>>& buffers, Module& model) {
  momentum_.clear();
  for (const auto& [name, buffer] : buffers) {
    const StateEntry e = find_state_entry(name, {"momentum"}, model, "SGD");
    SC_CHECK(buffer.shape() == e.param->shape() && buffer.dtype() == DType::F32, "SGD state: '", name,
             "' is ", buffer.describe(), ", the parameter ", e.param->describe());
    momentum_[e.key] = buffer.to(e.param->device()).clone();
  }
}

double step_learning_rate(double lr, double gamma, int64_t step_size, int64_t epoch) {
  SC_CHECK(step_size > 0 && epoch >= 0, "step_learning_rate: step size must be positive and the epoch ≥ 0");
  return lr * std::pow(gamma, static_cast<double>(epoch / step_size));
}

}  // namespace sc::training
