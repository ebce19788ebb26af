#include "nn/layers.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/plan.h"
#include "kernels/adaptive_avg_pool2d.h"
#include "kernels/batch_norm.h"
#include "kernels/batch_norm_training.h"
#include "kernels/channel_normalize.h"
#include "kernels/channel_sums.h"
#include "kernels/elementwise.h"
#include "kernels/fill.h"
#include "kernels/linear.h"
#include "kernels/relu.h"
#include "kernels/upsample_nearest2x.h"

namespace sc {

Conv2d::Conv2d(int64_t in, int64_t out, int64_t kernel, Conv2dParams p, bool has_bias) : params(p) {
  SC_CHECK(in % p.groups == 0, "Conv2d: groups ", p.groups, " must divide in_channels ", in);
  weight = Tensor::zeros({out, in / p.groups, kernel, kernel});
  if (has_bias) bias = Tensor::zeros({out});
}
Tensor Conv2d::forward(const Tensor& x) {
  input_.keep(x);
  return ops::conv2d(x, weight, bias, params);
}
Tensor Conv2d::backward(const Tensor& dy) {
  const Tensor& x = input_.get(*this);
  const Tensor g = dy.contiguous();
  if (ParameterGradients* sink = parameter_gradients()) {
    sink->accumulate(weight, ops::conv2d_backward_weight(x, g, weight.size(2), weight.size(3), params));
    if (bias.defined()) sink->accumulate(bias, ops::channel_sums(g));
  }
  return ops::conv2d_backward_input(g, weight, x.size(2), x.size(3), params);
}
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
  if (!training_mode()) {
    batch_stats_.keep(Tensor());
    return ops::batch_norm(x, weight, bias, running_mean, running_var, eps);
  }
  const int64_t count = x.numel() / std::max<int64_t>(1, x.size(1));
  SC_CHECK(count > 1, "BatchNorm2d: training needs more than one value per channel, got input ",
           x.describe());
  const Tensor stats = ops::batch_norm_statistics(x);
  const Tensor mean = stats.slice(0, 0, 1).reshape({x.size(1)});
  const Tensor var = stats.slice(0, 1, 2).reshape({x.size(1)});
  input_.keep(x);
  batch_stats_.keep(stats);
  const float m = static_cast<float>(momentum),
              unbias = static_cast<float>(count) / static_cast<float>(count - 1);
  const float inf = std::numeric_limits<float>::infinity();
  running_mean = ops::combine(1.0f - m, running_mean, m, mean, -inf, inf);
  running_var = ops::combine(1.0f - m, running_var, m * unbias, var, -inf, inf);
  // The count is incremented in place, so in storage of its own (not a loaded file's): cloned once, and again
  // only when a load has replaced it. `own_count_` holds that storage, so its address cannot be reused.
  if (!own_count_.defined() || own_count_.raw_data() != num_batches_tracked.raw_data() ||
      !num_batches_tracked.is_contiguous()) {
    num_batches_tracked = num_batches_tracked.contiguous().clone();
    own_count_ = num_batches_tracked;
  }
  ops::increment(num_batches_tracked, 1);
  return ops::batch_norm(x, weight, bias, mean, var, eps);
}
Tensor BatchNorm2d::backward(const Tensor& dy) {
  const Tensor& stats = batch_stats_.get(*this);
  if (!stats.defined()) {
    SC_CHECK(parameter_gradients() == nullptr,
             "BatchNorm2d: parameter gradients need a forward in training mode (TrainingMode)");
    const Tensor zero = Tensor::zeros(running_mean.shape(), DType::F32, running_mean.device());
    return ops::batch_norm(dy.contiguous(), weight, zero, zero, running_var, eps);
  }
  BatchNormGradients g = ops::batch_norm_backward(dy.contiguous(), input_.get(*this), weight, stats, eps);
  if (ParameterGradients* sink = parameter_gradients()) {
    sink->accumulate(weight, g.dweight);
    sink->accumulate(bias, g.dbias);
  }
  return g.dx;
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
Tensor Linear::forward(const Tensor& x) {
  const Tensor flat = x.dim() == 2 ? x : x.flatten(1);
  input_shape_.keep(x.shape());
  flat_input_.keep(flat);
  return ops::linear(flat, weight, bias);
}
// dx = dy · W: the linear map with the transposed weights. dW = dyᵀ · x, the linear map of dyᵀ with xᵀ as
// its weights; db = Σ_n dy.
Tensor Linear::backward(const Tensor& dy) {
  const Shape& s = input_shape_.get(*this);
  const Tensor g = dy.contiguous();
  if (ParameterGradients* sink = parameter_gradients()) {
    const Tensor& x = flat_input_.get(*this);
    sink->accumulate(weight,
                     ops::linear(g.permute({1, 0}).contiguous(), x.permute({1, 0}).contiguous(), Tensor()));
    if (bias.defined()) sink->accumulate(bias, ops::channel_sums(g));
  }
  return ops::linear(g, weight.permute({1, 0}).contiguous(), Tensor()).reshape(s);
}
void Linear::collect(const std::string& prefix, NamedTensors& out) {
  out.emplace_back(join_key(prefix, "weight"), &weight);
  if (bias.defined()) out.emplace_back(join_key(prefix, "bias"), &bias);
}

NegExpLinear::NegExpLinear(int64_t in, int64_t out) : effective_(in, out) {
  weight = Tensor::zeros({out, in});
  bias = Tensor::zeros({out});
}
void NegExpLinear::refresh() {
  std::vector<float> w = weight.cpu().to_float_vector();
  for (float& v : w) v = -std::exp(v);
  effective_.weight = Tensor::from_vector(w, weight.shape()).to(weight.device());
  effective_.bias = bias;
}
template <typename T>
T NegExpLinear::chained(const std::function<T()>& pass) {
  ParameterGradients* sink = parameter_gradients();
  if (sink == nullptr) return pass();
  ParameterGradients local;
  T result;
  {
    AccumulateParameterGradients into(local);
    result = pass();
  }
  // d(−exp(W))/dW = −exp(W): the effective weight itself.
  if (const Tensor* g = local.find(effective_.weight)) sink->accumulate(weight, ops::mul(*g, effective_.weight));
  if (const Tensor* g = local.find(effective_.bias)) sink->accumulate(bias, *g);
  return result;
}
Tensor NegExpLinear::forward(const Tensor& x) {
  refresh();
  return effective_.forward(x);
}
Tensor NegExpLinear::backward(const Tensor& dy) {
  return chained<Tensor>([&] { return effective_.backward(dy); });
}
Interval NegExpLinear::bounds(const Interval& x) {
  refresh();
  return effective_.bounds(x);
}
Interval NegExpLinear::bounds_backward(const Interval& dy) {
  return chained<Interval>([&] { return effective_.bounds_backward(dy); });
}
void NegExpLinear::collect(const std::string& prefix, NamedTensors& out) {
  out.emplace_back(join_key(prefix, "weight"), &weight);
  out.emplace_back(join_key(prefix, "bias"), &bias);
}

Tensor ReLU::forward(const Tensor& x) {
  Tensor y = ops::relu(x);
  output_.keep(y);
  return y;
}
Tensor ReLU::backward(const Tensor& dy) {
  return ops::relu_backward(dy.contiguous(), output_.get(*this));
}

Tensor MaxPool2d::forward(const Tensor& x) {
  input_.keep(x);
  return ops::max_pool2d(x, params);
}
Tensor MaxPool2d::backward(const Tensor& dy) {
  return ops::max_pool2d_backward(dy.contiguous(), input_.get(*this), params);
}

Tensor AvgPool2d::forward(const Tensor& x) {
  input_shape_.keep(x.shape());
  return ops::avg_pool2d(x, params);
}
Tensor Upsample2x::forward(const Tensor& x) {
  return ops::upsample_nearest2x(x);
}
Tensor Upsample2x::backward(const Tensor& dy) {
  return ops::affine(ops::avg_pool2d(dy.contiguous(), Pool2dParams::square(2, 2)), 4.0f, 0.0f);
}
Interval Upsample2x::bounds(const Interval& x) {
  return monotone_bounds(x, ops::upsample_nearest2x);
}
Interval Upsample2x::bounds_backward(const Interval& dy) {
  return {backward(dy.lower), backward(dy.upper)};
}

Tensor AvgPool2d::backward(const Tensor& dy) {
  const Shape& s = input_shape_.get(*this);
  return ops::avg_pool2d_backward(dy.contiguous(), s[2], s[3], params);
}

Tensor GlobalAvgPool::forward(const Tensor& x) {
  input_shape_.keep(x.shape());
  return ops::adaptive_avg_pool2d(x, 1, 1).flatten(1);
}
Tensor GlobalAvgPool::backward(const Tensor& dy) {
  const Shape& s = input_shape_.get(*this);
  return ops::adaptive_avg_pool2d_backward(dy.contiguous().reshape({s[0], s[1], 1, 1}), s[2], s[3]);
}

Tensor Flatten::forward(const Tensor& x) {
  input_shape_.keep(x.shape());
  return x.flatten(1);
}
Tensor Flatten::backward(const Tensor& dy) {
  return dy.contiguous().reshape(input_shape_.get(*this));
}

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
Tensor Normalize::backward(const Tensor& dy) {
  return ops::channel_normalize(dy.contiguous(), Tensor::zeros(mean.shape(), DType::F32, mean.device()), std);
}
void Normalize::collect(const std::string&, NamedTensors& out) {
  // Not part of the state dict, but must follow the model between devices.
  out.emplace_back("", &mean);
  out.emplace_back("", &std);
}

// Interval bounds (nn/interval.h): affine layers send the centre through the layer and the radius through
// |W|; the others are monotone.
Interval Conv2d::bounds(const Interval& x) {
  box_.keep(x);
  const Tensor abs_weight = abs_values(weight);
  return affine_bounds(
      x, [&](const Tensor& t) { return ops::conv2d(t, weight, bias, params); },
      [&](const Tensor& t) { return ops::conv2d(t, abs_weight, Tensor(), params); });
}
Interval BatchNorm2d::bounds(const Interval& x) {
  box_.keep(x);
  const Tensor zero = Tensor::zeros(running_mean.shape(), DType::F32, running_mean.device());
  const Tensor abs_weight = abs_values(weight);
  return affine_bounds(
      x, [&](const Tensor& t) { return ops::batch_norm(t, weight, bias, running_mean, running_var, eps); },
      [&](const Tensor& t) { return ops::batch_norm(t, abs_weight, zero, zero, running_var, eps); });
}
Interval Linear::bounds(const Interval& x) {
  box_.keep(x);
  const Tensor abs_weight = abs_values(weight);
  const auto flat = [](const Tensor& t) { return t.dim() == 2 ? t : t.flatten(1); };
  return affine_bounds(
      x, [&](const Tensor& t) { return ops::linear(flat(t), weight, bias); },
      [&](const Tensor& t) { return ops::linear(flat(t), abs_weight, Tensor()); });
}
Interval ReLU::bounds(const Interval& x) {
  box_.keep(x);
  return monotone_bounds(x, ops::relu);
}
Interval MaxPool2d::bounds(const Interval& x) {
  box_.keep(x);
  return monotone_bounds(x, [&](const Tensor& t) { return ops::max_pool2d(t, params); });
}
Interval AvgPool2d::bounds(const Interval& x) {
  box_.keep(x);
  return monotone_bounds(x, [&](const Tensor& t) { return ops::avg_pool2d(t, params); });
}
Interval GlobalAvgPool::bounds(const Interval& x) {
  box_.keep(x);
  return monotone_bounds(x, [](const Tensor& t) { return ops::adaptive_avg_pool2d(t, 1, 1).flatten(1); });
}
Interval Flatten::bounds(const Interval& x) {
  box_.keep(x);
  return monotone_bounds(x, [](const Tensor& t) { return t.flatten(1); });
}
Interval Normalize::bounds(const Interval& x) {
  return monotone_bounds(x, [&](const Tensor& t) { return ops::channel_normalize(t, mean, std); });
}

// Backward through the bounds: an affine layer's centre path is its ordinary backward at the centre (weight
// gradient g_c ⊗ c, bias gradient Σ g_c), its radius path the backward through |W| at the radius (weight
// gradient sign(W)·(g_r ⊗ r), no bias); a monotone layer's is its backward at each bound.
Interval Conv2d::bounds_backward(const Interval& dy) {
  const Interval& x = box_.get(*this);
  const CentreRadius in = centre_radius(x), g = centre_radius_gradients(dy);
  const int64_t kh = weight.size(2), kw = weight.size(3), h = x.lower.size(2), w = x.lower.size(3);
  if (ParameterGradients* sink = parameter_gradients()) {
    sink->accumulate(weight, ops::conv2d_backward_weight(in.centre, g.centre, kh, kw, params));
    sink->accumulate(weight,
                     times_sign_of(ops::conv2d_backward_weight(in.radius, g.radius, kh, kw, params), weight));
    if (bias.defined()) sink->accumulate(bias, ops::channel_sums(g.centre));
  }
  return bound_gradients(ops::conv2d_backward_input(g.centre, weight, h, w, params),
                         ops::conv2d_backward_input(g.radius, abs_values(weight), h, w, params));
}
Interval Linear::bounds_backward(const Interval& dy) {
  const Interval& x = box_.get(*this);
  const auto flat = [](const Tensor& t) { return (t.dim() == 2 ? t : t.flatten(1)).contiguous(); };
  const CentreRadius in = centre_radius({flat(x.lower), flat(x.upper)}), g = centre_radius_gradients(dy);
  // dW = gᵀ·x: the linear op on transposed operands, as Linear::backward.
  const auto outer = [](const Tensor& gy, const Tensor& at) {
    return ops::linear(gy.permute({1, 0}).contiguous(), at.permute({1, 0}).contiguous(), Tensor());
  };
  if (ParameterGradients* sink = parameter_gradients()) {
    sink->accumulate(weight, outer(g.centre, in.centre));
    sink->accumulate(weight, times_sign_of(outer(g.radius, in.radius), weight));
    if (bias.defined()) sink->accumulate(bias, ops::channel_sums(g.centre));
  }
  const Tensor dc = ops::linear(g.centre, weight.permute({1, 0}).contiguous(), Tensor()),
               dr = ops::linear(g.radius, abs_values(weight).permute({1, 0}).contiguous(), Tensor());
  const Interval d = bound_gradients(dc, dr);
  return {d.lower.reshape(x.lower.shape()), d.upper.reshape(x.upper.shape())};
}
Interval BatchNorm2d::bounds_backward(const Interval& dy) {
  // y = γ·(x − μ)/s + β per channel, s = √(running var + eps): the centre's gradient through γ/s, the
  // radius' through |γ|/s; ∂/∂γ = Σ g_c·(c − μ)/s + sign(γ)·Σ g_r·r/s and ∂/∂β = Σ g_c.
  const Interval& x = box_.get(*this);
  const CentreRadius in = centre_radius(x), g = centre_radius_gradients(dy);
  const Tensor zero = Tensor::zeros(running_mean.shape(), DType::F32, running_mean.device());
  if (ParameterGradients* sink = parameter_gradients()) {
    const Tensor one = Tensor::full(running_mean.shape(), 1.0f, running_mean.device());
    const Tensor centred = ops::batch_norm(in.centre, one, zero, running_mean, running_var, eps),
                 scaled = ops::batch_norm(in.radius, one, zero, zero, running_var, eps);
    sink->accumulate(weight, ops::channel_sums(ops::mul(g.centre, centred)));
    sink->accumulate(weight, times_sign_of(ops::channel_sums(ops::mul(g.radius, scaled)), weight));
    sink->accumulate(bias, ops::channel_sums(g.centre));
  }
  return bound_gradients(ops::batch_norm(g.centre, weight, zero, zero, running_var, eps),
                         ops::batch_norm(g.radius, abs_values(weight), zero, zero, running_var, eps));
}
Interval ReLU::bounds_backward(const Interval& dy) {
  return monotone_bounds_backward(dy, box_.get(*this), [](const Tensor& g, const Tensor& at) {
    return ops::relu_backward(g, ops::relu(at));
  });
}
Interval MaxPool2d::bounds_backward(const Interval& dy) {
  return monotone_bounds_backward(dy, box_.get(*this), [&](const Tensor& g, const Tensor& at) {
    return ops::max_pool2d_backward(g, at, params);
  });
}
Interval AvgPool2d::bounds_backward(const Interval& dy) {
  return monotone_bounds_backward(dy, box_.get(*this), [&](const Tensor& g, const Tensor& at) {
    return ops::avg_pool2d_backward(g, at.size(2), at.size(3), params);
  });
}
Interval GlobalAvgPool::bounds_backward(const Interval& dy) {
  return monotone_bounds_backward(dy, box_.get(*this), [](const Tensor& g, const Tensor& at) {
    return ops::adaptive_avg_pool2d_backward(g.reshape({g.size(0), g.size(1), 1, 1}), at.size(2), at.size(3));
  });
}
Interval Flatten::bounds_backward(const Interval& dy) {
  return monotone_bounds_backward(dy, box_.get(*this),
                                  [](const Tensor& g, const Tensor& at) { return g.reshape(at.shape()); });
}
Interval Normalize::bounds_backward(const Interval& dy) {  // (x − m)/s is affine with s > 0: dy/s per bound
  return {backward(dy.lower), backward(dy.upper)};
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
