#include "attacks/ddn.h"

#include <algorithm>
#include <cmath>

#include "attacks/loss_gradient.h"
#include "attacks/perturbation.h"
#include "nn/error.h"

namespace sc::attacks {

DdnWalk ddn_walk(const Tensor& x, const DdnOptions& o, const DdnOracle& look) {
  SC_CHECK(o.steps >= 1, "ddn: --steps must be at least 1, got ", o.steps);
  SC_CHECK(std::isfinite(o.gamma) && o.gamma > 0 && o.gamma < 1, "ddn: gamma must be in (0, 1), got ",
           o.gamma);
  SC_CHECK(std::isfinite(o.init_norm) && o.init_norm > 0, "ddn: the first norm must be positive, got ",
           o.init_norm);
  SC_CHECK(x.dim() == 4, "ddn: x must be [N, C, H, W], got ", x.describe());
  const int64_t n = x.size(0), d = x.numel() / std::max<int64_t>(n, 1);
  const std::vector<float> clean = x.cpu().to_float_vector();
  std::vector<float> delta(clean.size(), 0.0f);
  DdnWalk w;
  w.best.assign(clean.size(), 0.0f);
  w.found.assign(static_cast<size_t>(n), false);
  std::vector<double> budget(static_cast<size_t>(n), o.init_norm), worst(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;  // the largest perturbation the box allows: every value to its farther face
    for (int64_t e = 0; e < d; ++e) {
      const double v = clean[static_cast<size_t>(i * d + e)];
      s += std::max(v, 1 - v) * std::max(v, 1 - v);
    }
    worst[static_cast<size_t>(i)] = std::sqrt(s);
  }
  w.best_norm = worst;
  const double pi = std::acos(-1.0);
  const Ball direction{Norm::L2, 0};
  for (int k = 0; k <= o.steps; ++k) {
    const bool last = k == o.steps;
    const DdnLook at = look(perturbed_images(clean, delta, x.shape(), x.device()), !last);
    SC_CHECK(static_cast<int64_t>(at.adversarial.size()) == n && (last || at.grad.size() == clean.size()),
             "ddn: the oracle answered for the wrong number of images");
    for (int64_t i = 0; i < n; ++i) {
      const auto m = static_cast<size_t>(i);
      const float* di = delta.data() + i * d;
      const double norm = l2_norm(di, d);
      if (at.adversarial[m] && norm < w.best_norm[m]) {
        w.found[m] = true, w.best_norm[m] = norm;
        std::copy(di, di + d, w.best.begin() + i * d);
      }
    }
    if (last) break;
    const double step = 0.01 + 0.99 * (1 + std::cos(pi * (k + 1) / o.steps)) / 2;
    for (int64_t i = 0; i < n; ++i) {
      const auto m = static_cast<size_t>(i);
      float* di = delta.data() + i * d;
      ascent_step(direction, at.grad.data() + i * d, step, di, d);  // along ∇/‖∇‖₂ (a zero gradient: no move)
      budget[m] = std::min(budget[m] * (at.adversarial[m] ? 1 - o.gamma : 1 + o.gamma), worst[m]);
      const double norm = l2_norm(di, d);
      if (norm > 0)
        for (int64_t e = 0; e < d; ++e) di[e] = static_cast<float>(di[e] * (budget[m] / norm));
      const float* xi = clean.data() + i * d;
      if (o.quantize)
        for (int64_t e = 0; e < d; ++e) di[e] = std::round((xi[e] + di[e]) * 255.0f) / 255.0f - xi[e];
      clip_to_box(xi, di, d);
    }
  }
  return w;
}

AttackResult ddn_attack(Classifier& model, const Tensor& x, const std::vector<int64_t>& labels,
                        const DdnOptions& o) {
  SC_CHECK(std::isfinite(o.eps) && o.eps > 0, "ddn: --eps must be positive, got ", o.eps);
  SC_CHECK(o.eot >= 1, "ddn: --eot must be at least 1, got ", o.eot);
  SC_CHECK(x.dim() == 4 && static_cast<int64_t>(labels.size()) == x.size(0), "ddn: ", labels.size(),
           " labels for ", x.describe());
  const LogitsLoss loss = cross_entropy(labels);
  const DdnWalk w = ddn_walk(x, o, [&](const Tensor& iterates, bool with_gradient) {
    const LossGradient lg = eot_loss_gradient(model, iterates, loss, o.eot, with_gradient);
    DdnLook at;
    for (size_t i = 0; i < labels.size(); ++i) at.adversarial.push_back(lg.predictions[i] != labels[i]);
    if (with_gradient) at.grad = lg.grad.cpu().to_float_vector();
    return at;
  });
  // The answer: the smallest adversarial perturbation within ε, else the clean image.
  const int64_t n = x.size(0), d = x.numel() / std::max<int64_t>(n, 1);
  AttackResult r;
  r.success.assign(static_cast<size_t>(n), false);
  std::vector<float> kept(w.best.size(), 0.0f);
  for (int64_t i = 0; i < n; ++i) {
    const auto m = static_cast<size_t>(i);
    r.success[m] = w.found[m] && w.best_norm[m] <= o.eps * (1 + 1e-6);
    if (r.success[m]) std::copy(w.best.begin() + i * d, w.best.begin() + (i + 1) * d, kept.begin() + i * d);
  }
  r.adversarial = perturbed_images(x.cpu().to_float_vector(), kept, x.shape(), x.device());
  const LossGradient at = loss_gradient(model, r.adversarial, loss, false);
  r.predictions = at.predictions;
  r.loss = at.loss;
  return r;
}

}  // namespace sc::attacks
