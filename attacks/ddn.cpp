#include "attacks/ddn.h"

#include <algorithm>
#include <cmath>

#include "attacks/loss_gradient.h"
#include "attacks/perturbation.h"
#include "nn/error.h"

namespace sc::attacks {

AttackResult ddn_attack(Classifier& model, const Tensor& x, const std::vector<int64_t>& labels,
                        const DdnOptions& o) {
  SC_CHECK(std::isfinite(o.eps) && o.eps > 0, "ddn: --eps must be positive, got ", o.eps);
  SC_CHECK(o.steps >= 1, "ddn: --steps must be at least 1, got ", o.steps);
  SC_CHECK(std::isfinite(o.gamma) && o.gamma > 0 && o.gamma < 1, "ddn: gamma must be in (0, 1), got ",
           o.gamma);
  SC_CHECK(std::isfinite(o.init_norm) && o.init_norm > 0, "ddn: the first norm must be positive, got ",
           o.init_norm);
  SC_CHECK(o.eot >= 1, "ddn: --eot must be at least 1, got ", o.eot);
  SC_CHECK(x.dim() == 4, "ddn: x must be [N, C, H, W], got ", x.describe());
  const int64_t n = x.size(0), d = x.numel() / std::max<int64_t>(n, 1);
  SC_CHECK(static_cast<int64_t>(labels.size()) == n, "ddn: ", labels.size(), " labels for ", n, " images");
  const std::vector<float> clean = x.cpu().to_float_vector();
  std::vector<float> delta(clean.size(), 0.0f), best(clean.size(), 0.0f);
  std::vector<double> budget(static_cast<size_t>(n), o.init_norm), worst(static_cast<size_t>(n)),
      best_norm(static_cast<size_t>(n));
  std::vector<bool> found(static_cast<size_t>(n), false);
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;  // the largest perturbation the box allows: every value to its farther face
    for (int64_t e = 0; e < d; ++e) {
      const double v = clean[static_cast<size_t>(i * d + e)];
      s += std::max(v, 1 - v) * std::max(v, 1 - v);
    }
    worst[static_cast<size_t>(i)] = best_norm[static_cast<size_t>(i)] = std::sqrt(s);
  }
  const LogitsLoss loss = cross_entropy(labels);
  const double pi = std::acos(-1.0);
  for (int k = 0; k <= o.steps; ++k) {
    const bool last = k == o.steps;
    const LossGradient lg =
        eot_loss_gradient(model, perturbed_images(clean, delta, x.shape(), x.device()), loss, o.eot, !last);
    std::vector<bool> adversarial(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const auto m = static_cast<size_t>(i);
      float* di = delta.data() + i * d;
      const double norm = l2_norm(di, d);
      adversarial[m] = lg.predictions[m] != labels[m];
      if (adversarial[m] && norm < best_norm[m]) {
        found[m] = true, best_norm[m] = norm;
        std::copy(di, di + d, best.begin() + i * d);
      }
    }
    if (last) break;
    const std::vector<float> g = lg.grad.cpu().to_float_vector();
    const double step = 0.01 + 0.99 * (1 + std::cos(pi * (k + 1) / o.steps)) / 2;
    const Ball ball{Norm::L2, 0};
    for (int64_t i = 0; i < n; ++i) {
      const auto m = static_cast<size_t>(i);
      float* di = delta.data() + i * d;
      ascent_step(ball, g.data() + i * d, step, di, d);  // along ∇/‖∇‖₂ (a zero gradient: no move)
      budget[m] = std::min(budget[m] * (adversarial[m] ? 1 - o.gamma : 1 + o.gamma), worst[m]);
      const double norm = l2_norm(di, d);
      if (norm > 0)
        for (int64_t e = 0; e < d; ++e) di[e] = static_cast<float>(di[e] * (budget[m] / norm));
      const float* xi = clean.data() + i * d;
      if (o.quantize)
        for (int64_t e = 0; e < d; ++e) di[e] = std::round((xi[e] + di[e]) * 255.0f) / 255.0f - xi[e];
      clip_to_box(xi, di, d);
    }
  }
  // The answer: the smallest adversarial perturbation within ε, else the clean image.
  AttackResult r;
  r.success.assign(static_cast<size_t>(n), false);
  std::vector<float> kept(clean.size(), 0.0f);
  for (int64_t i = 0; i < n; ++i) {
    const auto m = static_cast<size_t>(i);
    r.success[m] = found[m] && best_norm[m] <= o.eps * (1 + 1e-6);
    if (r.success[m]) std::copy(best.begin() + i * d, best.begin() + (i + 1) * d, kept.begin() + i * d);
  }
  r.adversarial = perturbed_images(clean, kept, x.shape(), x.device());
  const LossGradient at = loss_gradient(model, r.adversarial, loss, false);
  r.predictions = at.predictions;
  r.loss = at.loss;
  return r;
}

}  // namespace sc::attacks
