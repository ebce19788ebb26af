#include "nn/models/random_init.h"

#include <cmath>
#include <map>
#include <random>
#include <string>

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

void initialize_for_training(Module& model, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  const NamedTensors tensors = model.named_tensors();
  std::map<std::string, int64_t> fan_in;  // of each layer with a weight matrix, by the layer's key prefix
  auto layer_of = [](const std::string& key) { return key.substr(0, key.rfind('.') + 1); };
  for (const auto& [key, tensor] : tensors)
    if (ends_with(key, "weight") && tensor->dim() >= 2)
      fan_in[layer_of(key)] = tensor->numel() / tensor->size(0);
  for (const auto& [key, tensor] : tensors) {
    if (key.empty()) continue;  // constants
    Tensor host = Tensor::zeros(tensor->shape(), tensor->dtype());
    const auto layer = fan_in.find(layer_of(key));
    if (tensor->dtype() == DType::F32) {
      float* p = host.data<float>();
      for (int64_t i = 0; i < host.numel(); ++i) {
        double v = 0.0;
        if (tensor->dim() == 4 && ends_with(key, "weight")) {
          const double fan_out = static_cast<double>(tensor->size(0) * tensor->size(2) * tensor->size(3));
          v = normal(rng) * std::sqrt(2.0 / fan_out);
        } else if (layer != fan_in.end()) {  // a linear weight, or a convolution's or linear layer's bias
          v = uniform(rng) / std::sqrt(static_cast<double>(layer->second));
        } else if (ends_with(key, "weight") || ends_with(key, "running_var")) {  // BatchNorm γ, variance
          v = 1.0;
        } else if (ends_with(key, "cls_token") || ends_with(key, "position_embeddings") ||
                   ends_with(key, "pos_embed")) {
          // A transformer's class token and positions: N(0, 0.02²) as timm and transformers draw them (not
          // zero: a zero class token makes the first LayerNorm divide a zero row by √eps).
          v = 0.02 * normal(rng);
        } else if (ends_with(key, "gamma_1") || ends_with(key, "gamma_2") || ends_with(key, ".gamma")) {
          v = 0.1;  // layer scales: BEiT-B's init_values
        }
        p[i] = static_cast<float>(v);
      }
    }
    tensor->copy_(host);
  }
}

}  // namespace sc
