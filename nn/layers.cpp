#include "nn/layers.h"

#include "engine/plan.h"

#include "kernels/adaptive_avg_pool2d.h"
#include "kernels/batch_norm.h"
#include "kernels/channel_normalize.h"
#include "kernels/linear.h"
#include "kernels/relu.h"

namespace sc {

Conv2d::Conv2d(int64_t in, int64_t out, int64_t kernel, Conv2dParams p, bool has_bias) : params(p) {
  SC_CHECK(in % p.groups == 0, "Conv2d: groups ", p.groups, " must divide in_channels ", in);
  weight = Tensor::zeros({out, in / p.groups, kernel, kernel});
  if (has_bias) bias = Tensor::zeros({out});
}
Tensor Conv2d::forward(const Tensor& x) { return ops::conv2d(x, weight, bias, params); }
void Conv2d::collect(const std::string& prefix, NamedTensors& out) {
  out.emplace_back(join_key(prefix, "weight"), &weight);
  if (bias.defined()) out.emplace_back(join_key(prefix, "bias"), &bias);
}

BatchNorm2d::BatchNorm2d(int64_t c, double e) : eps(e) {
  weight = Tensor::full({c}, 1.0f);
  bias = Tensor::zeros({c});
  running_mean = Tensor::zeros({c});
  running_var = Tensor::full({c}, 1.0f);
  num_batches_tracked = Tensor::zeros({}, DType::I64);
}
Tensor BatchNorm2d::forward(const Tensor& x) {
  return ops::batch_norm(x, weight, bias, running_mean, running_var, eps);
}
void BatchNorm2d::collect(const std::string& prefix, NamedTensors& out) {
  out.emplace_back(join_key(prefix, "weight"), &weight);
  out.emplace_back(join_key(prefix, "bias"), &bias);
  out.emplace_back(join_key(prefix, "running_mean"), &running_mean);
  out.emplace_back(join_key(prefix, "running_var"), &running_var);
  out.emplace_back(join_key(prefix, "num_batches_tracked"), &num_batches_tracked);
}

Linear::Linear(int64_t in, int64_t out, bool has_bias) {
  weight = Tensor::zeros({out, in});
  if (has_bias) bias = Tensor::zeros({out});
}
Tensor Linear::forward(const Tensor& x) { return ops::linear(x.dim() == 2 ? x : x.flatten(1), weight, bias); }
void Linear::collect(const std::string& prefix, NamedTensors& out) {
  out.emplace_back(join_key(prefix, "weight"), &weight);
  if (bias.defined()) out.emplace_back(join_key(prefix, "bias"), &bias);
}

Tensor ReLU::forward(const Tensor& x) { return ops::relu(x); }
Tensor MaxPool2d::forward(const Tensor& x) { return ops::max_pool2d(x, params); }
Tensor AvgPool2d::forward(const Tensor& x) { return ops::avg_pool2d(x, params); }
Tensor GlobalAvgPool::forward(const Tensor& x) { return ops::adaptive_avg_pool2d(x, 1, 1).flatten(1); }

Normalize::Normalize(std::vector<float> m, std::vector<float> s) {
  SC_CHECK(m.size() == s.size() && !m.empty(), "Normalize: mean and std need one value per channel");
  for (float v : s) SC_CHECK(v > 0, "Normalize: std must be positive, got ", v);
  const int64_t c = static_cast<int64_t>(m.size());
  mean = Tensor::from_vector(m, {c});
  std = Tensor::from_vector(s, {c});
}
Tensor Normalize::forward(const Tensor& x) {
  SC_CHECK(x.dim() == 4 && x.size(1) == mean.size(0), "Normalize: input ", x.describe(), " does not have ",
           mean.size(0), " channels");
  return ops::channel_normalize(x, mean, std);
}
void Normalize::collect(const std::string&, NamedTensors& out) {
  // Not part of the state dict, but must follow the model between devices.
  out.emplace_back("", &mean);
  out.emplace_back("", &std);
}

// Lowering to the fast path (engine/plan.h).
int Conv2d::lower(PlanBuilder& b, int x) const { return b.conv(x, weight, bias, params); }
int BatchNorm2d::lower(PlanBuilder& b, int x) const {
  return b.batch_norm(x, weight, bias, running_mean, running_var, eps);
}
int Linear::lower(PlanBuilder& b, int x) const { return b.linear(b.flatten(x), weight, bias); }
int ReLU::lower(PlanBuilder& b, int x) const { return b.relu(x); }
int MaxPool2d::lower(PlanBuilder& b, int x) const { return b.max_pool(x, params); }
int GlobalAvgPool::lower(PlanBuilder& b, int x) const { return b.global_avg_pool(x); }
int Flatten::lower(PlanBuilder& b, int x) const { return b.flatten(x); }

}  // namespace sc
