#include "nn/models/random_init.h"

#include <cmath>
#include <random>

namespace sc {

namespace {
bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}
}  // namespace

void randomize_parameters(Module& model, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform(0.5, 1.5);
  for (auto& [key, tensor] : model.named_tensors()) {
    if (key.empty() || tensor->dtype() != DType::F32) continue;  // constants and counters
    Tensor host = Tensor::empty(tensor->shape());
    float* p = host.data<float>();
    const bool matrix = tensor->dim() >= 2;
    const double fan_in = matrix ? static_cast<double>(tensor->numel() / tensor->size(0)) : 1.0;
    for (int64_t i = 0; i < host.numel(); ++i) {
      double v;
      if (matrix) {
        v = normal(rng) / std::sqrt(fan_in);
      } else if (ends_with(key, "running_var")) {
        v = uniform(rng);
      } else if (ends_with(key, "weight")) {  // a BatchNorm scale
        v = 1.0 + 0.1 * normal(rng);
      } else {
        v = 0.1 * normal(rng);
      }
      p[i] = static_cast<float>(v);
    }
    tensor->copy_(host);
  }
}

}  // namespace sc
