#include "ood/joint_model.h"

#include <algorithm>
#include <cmath>

#include "kernels/elementwise.h"
#include "nn/log_math.h"

namespace sc::ood {

namespace {

// The detector's logit d per row: its one output, or out₁ − out₀ for two.
std::vector<double> detector_logits(const Tensor& out) {
  const int64_t n = out.size(0), k = out.size(1);
  const std::vector<float> v = out.cpu().to_float_vector();
  std::vector<double> d(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    d[i] = k == 1 ? v[i] : static_cast<double>(v[2 * i + 1]) - static_cast<double>(v[2 * i]);
  return d;
}

}  // namespace

JointNet::JointNet(std::unique_ptr<Classifier> classifier, std::unique_ptr<Classifier> detector)
    : classifier_(std::move(classifier)), detector_(std::move(detector)) {
  const ModelSpec &f = classifier_->spec, &d = detector_->spec;
  SC_CHECK(d.num_classes == 1 || d.num_classes == 2, "joint model: the detector '", d.arch,
           "' must have 1 output (its logit) or 2 (out, in), not ", d.num_classes);
  SC_CHECK(f.channels == d.channels && f.height == d.height && f.width == d.width,
           "joint model: the classifier '", f.arch, "' takes [", f.channels, ", ", f.height, ", ", f.width,
           "] images, the detector '", d.arch, "' [", d.channels, ", ", d.height, ", ", d.width, "]");
}

Tensor JointNet::forward(const Tensor& x) {
  const Tensor logits = classifier_->forward(x);
  const std::vector<double> d = detector_logits(detector_->forward(x));
  const int64_t n = logits.size(0), K = logits.size(1);
  const std::vector<float> f = logits.cpu().to_float_vector();
  Combination c{std::vector<double>(f.size()), d, std::vector<double>(f.size())};
  const double log_k = std::log(static_cast<double>(K));
  std::vector<float> out(f.size());
  for (int64_t i = 0; i < n; ++i) {
    const float* row = f.data() + i * K;
    double m = -INFINITY, sum = 0.0;
    for (int64_t y = 0; y < K; ++y) m = std::max(m, static_cast<double>(row[y]));
    for (int64_t y = 0; y < K; ++y) sum += std::exp(row[y] - m);
    const double log_in = -softplus(-d[i]), log_out = -softplus(d[i]);  // log σ(d), log(1 − σ(d))
    for (int64_t y = 0; y < K; ++y) {
      const size_t k = static_cast<size_t>(i * K + y);
      c.log_softmax[k] = row[y] - m - std::log(sum);
      // NaN logits stay NaN (logaddexp's max would drop one).
      c.output[k] = std::isnan(c.log_softmax[k]) || std::isnan(d[i])
                        ? NAN
                        : logaddexp(log_in + c.log_softmax[k], log_out - log_k);
      out[k] = static_cast<float>(c.output[k]);
    }
  }
  saved_.keep(c);
  return Tensor::from_vector(out, {n, K}).to(logits.device());
}

// With q_y = p(y|x) = π·p_y + (1 − π)/K, π = σ(d), p = softmax(f), and g_y = ∂L/∂log q_y:
//   ∂L/∂f_j = w_j − p_j·Σ_y w_y,   w_y = g_y·π·p_y/q_y
//   ∂L/∂d   = π(1 − π)·Σ_y g_y·(p_y − 1/K)/q_y
Tensor JointNet::backward(const Tensor& dy) {
  const Combination& c = saved_.get(*this);
  const int64_t n = static_cast<int64_t>(c.detector_logit.size()),
                K = n == 0 ? 0 : static_cast<int64_t>(c.output.size()) / n;
  SC_CHECK(dy.dim() == 2 && dy.size(0) == n && dy.size(1) == K, "JointNet: backward expects dy [", n, ", ", K,
           "], got ", dy.describe());
  const std::vector<float> g = dy.cpu().to_float_vector();
  const int64_t detector_outputs = detector_->spec.num_classes;
  std::vector<float> df(g.size()), dd(static_cast<size_t>(n * detector_outputs));
  const double log_k = std::log(static_cast<double>(K));
  std::vector<double> w(static_cast<size_t>(K));
  for (int64_t i = 0; i < n; ++i) {
    const double d = c.detector_logit[i], log_in = -softplus(-d), log_out = -softplus(d);
    double w_sum = 0.0, dd_sum = 0.0;
    for (int64_t y = 0; y < K; ++y) {
      const size_t k = static_cast<size_t>(i * K + y);
      w[y] = g[k] * std::exp(log_in + c.log_softmax[k] - c.output[k]);
      w_sum += w[y];
      dd_sum += g[k] * (std::exp(c.log_softmax[k] - c.output[k]) - std::exp(-log_k - c.output[k]));
    }
    for (int64_t y = 0; y < K; ++y) {
      const size_t k = static_cast<size_t>(i * K + y);
      df[k] = static_cast<float>(w[y] - std::exp(c.log_softmax[k]) * w_sum);
    }
    const double dd_i = std::exp(log_in + log_out) * dd_sum;
    if (detector_outputs == 1) {
      dd[i] = static_cast<float>(dd_i);
    } else {  // d = out₁ − out₀
      dd[2 * i] = static_cast<float>(-dd_i);
      dd[2 * i + 1] = static_cast<float>(dd_i);
    }
  }
  const Device device = dy.device();
  const Tensor dx_f = classifier_->backward(Tensor::from_vector(df, {n, K}).to(device));
  const Tensor dx_d = detector_->backward(Tensor::from_vector(dd, {n, detector_outputs}).to(device));
  return ops::add(dx_f, dx_d);
}

Interval JointNet::bounds(const Interval& x) {
  const Interval b = detector_->bounds(x);
  const int64_t n = b.upper.size(0), K = classifier_->spec.num_classes;
  const std::vector<float> lo = b.lower.cpu().to_float_vector(), up = b.upper.cpu().to_float_vector();
  std::vector<float> lower(static_cast<size_t>(n * K)), upper(lower.size());
  const double log_k = std::log(static_cast<double>(K));
  for (int64_t i = 0; i < n; ++i) {
    // The largest detector logit in the box: u, or u₁ − l₀ for two outputs.
    const double u = b.upper.size(1) == 1 ? up[i] : static_cast<double>(up[2 * i + 1]) - lo[2 * i];
    const double log_out = -softplus(u);  // log(1 − σ(u)): q_y's lower bound times K
    const double log_high = logaddexp(-softplus(-u), log_out - log_k);  // log(σ(u) + (1 − σ(u))/K)
    for (int64_t y = 0; y < K; ++y) {
      // NaN (an overflowed box) stays NaN: "unbounded" to the score bounds.
      lower[i * K + y] = static_cast<float>(std::isnan(u) ? NAN : log_out - log_k);
      upper[i * K + y] = static_cast<float>(std::isnan(u) ? NAN : log_high);
    }
  }
  const Device device = b.upper.device();
  return {Tensor::from_vector(lower, {n, K}).to(device), Tensor::from_vector(upper, {n, K}).to(device)};
}

void JointNet::collect(const std::string& prefix, NamedTensors& out) {
  classifier_->collect(join_key(prefix, "base_model"), out);
  detector_->collect(join_key(prefix, "detector"), out);
}

std::unique_ptr<Classifier> make_joint_classifier(std::unique_ptr<Classifier> classifier,
                                                  std::unique_ptr<Classifier> detector) {
  SC_CHECK(classifier->device() == detector->device(), "joint model: the classifier is on ",
           classifier->device().str(), ", the detector on ", detector->device().str());
  ModelSpec spec = classifier->spec;
  spec.arch = "joint(" + classifier->spec.arch + ", " + detector->spec.arch + ")";
  spec.mean.clear();
  spec.std.clear();
  spec.flags.clear();
  return std::make_unique<Classifier>(spec,
                                      std::make_unique<JointNet>(std::move(classifier), std::move(detector)));
}

}  // namespace sc::ood
