#include "training/adam.h"

#include <cmath>

namespace sc::training {

Adam::Adam(AdamParams params) : params_(params) {
  // ops::adam_step checks the same per step; a bad option should fail before the first epoch.
  SC_CHECK(std::isfinite(params.lr) && params.lr >= 0, "Adam: the learning rate must be finite and ≥ 0, got ",
           params.lr);
  SC_CHECK(params.beta1 >= 0 && params.beta1 < 1 && params.beta2 >= 0 && params.beta2 < 1,
           "Adam: betas must be in [0, 1), got ", params.beta1, " and ", params.beta2);
  SC_CHECK(std::isfinite(params.eps) && params.eps > 0, "Adam: eps must be finite and positive, got ",
           params.eps);
  SC_CHECK(std::isfinite(params.weight_decay) && params.weight_decay >= 0,
           "Adam: weight decay must be finite and ≥ 0, got ", params.weight_decay);
}

void Adam::step(Module& model, const ParameterGradients& grads, double lr) {
  AdamParams p = params_;
  p.lr = lr;
  for (auto& [key, tensor] : model.named_tensors()) {
    const Tensor* g = grads.find(*tensor);
    if (g == nullptr) continue;
    Moments& m = moments_[key];
    if (!m.exp_avg.defined()) {
      m.exp_avg = Tensor::zeros(tensor->shape(), DType::F32, tensor->device());
      m.exp_avg_sq = Tensor::zeros(tensor->shape(), DType::F32, tensor->device());
    }
    ops::adam_step(*tensor, *g, m.exp_avg, m.exp_avg_sq, ++m.steps, p);
  }
}

std::vector<std::pair<std::string, Tensor>> Adam::state() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [key, m] : moments_) {
    out.emplace_back("exp_avg." + key, m.exp_avg.cpu());
    out.emplace_back("exp_avg_sq." + key, m.exp_avg_sq.cpu());
    out.emplace_back("step." + key, Tensor::from_vector(std::vector<int64_t>{m.steps}, {}));
  }
  return out;
}

void Adam::load_state(const std::vector<std::pair<std::string, Tensor>>& state, Module& model) {
  moments_.clear();
  for (const auto& [name, t] : state) {
    const StateEntry e = find_state_entry(name, {"exp_avg_sq", "exp_avg", "step"}, model, "Adam");
    Moments& m = moments_[e.key];
    if (e.kind == "step") {
      SC_CHECK(t.dtype() == DType::I64 && t.numel() == 1 && t.data<int64_t>()[0] >= 1, "Adam state: '", name,
               "' must be a step count ≥ 1, got ", t.describe());
      m.steps = t.data<int64_t>()[0];
      continue;
    }
    SC_CHECK(t.shape() == e.param->shape() && t.dtype() == DType::F32, "Adam state: '", name, "' is ",
             t.describe(), ", the parameter ", e.param->describe());
    (e.kind == "exp_avg" ? m.exp_avg : m.exp_avg_sq) = t.to(e.param->device()).clone();
  }
  for (const auto& [key, m] : moments_)
    SC_CHECK(m.exp_avg.defined() && m.exp_avg_sq.defined() && m.steps >= 1, "Adam state: the parameter '",
             key, "' lacks one of exp_avg, exp_avg_sq and step");
}

}  // namespace sc::training
