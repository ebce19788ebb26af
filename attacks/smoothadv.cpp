#include "attacks/smoothadv.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "attacks/ddn.h"
#include "attacks/loss_gradient.h"
#include "attacks/perturbation.h"
#include "kernels/concat.h"
#include "kernels/gaussian_noise.h"
#include "nn/error.h"
#include "smoothing/noise.h"

namespace sc::attacks {

Tensor smoothadv_noisy_copies(const Tensor& all, const std::vector<int64_t>& image_ids,
                              const SmoothAdvOptions& o) {
  const Shape& shape = all.shape();
  std::vector<Tensor> parts;
  for (int64_t i = 0; i < shape[0]; ++i) {
    const Tensor image = all.slice(0, i, i + 1).contiguous().reshape({shape[1], shape[2], shape[3]});
    const NoiseKey key{o.seed, static_cast<uint32_t>(image_ids[static_cast<size_t>(i)]), noise::kAttack};
    parts.push_back(ops::add_gaussian_noise(image, o.m, static_cast<float>(o.sigma), key, 0));
  }
  return parts.size() == 1 ? parts[0] : ops::concat(parts, 0);
}

namespace {

// ∇_Δ of each image's loss: its m copies' gradients added (x + Δ + δ_j depends on Δ with unit Jacobian).
// g: [n·m, C, H, W] on any device; the result n·d values on the host.
std::vector<float> image_gradients(const Tensor& g, int64_t n, int64_t m, int64_t d) {
  const std::vector<float> rows = g.cpu().to_float_vector();
  std::vector<float> out(static_cast<size_t>(n * d), 0.0f);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j)
      for (int64_t e = 0; e < d; ++e)
        out[static_cast<size_t>(i * d + e)] += rows[static_cast<size_t>((i * m + j) * d + e)];
  return out;
}

}  // namespace

std::vector<int64_t> majority_labels(const std::vector<int64_t>& predictions, int64_t n, int64_t m) {
  SC_CHECK(static_cast<int64_t>(predictions.size()) == n * m && m >= 1,
           "majority_labels: ", predictions.size(), " predictions for ", n, " images of ", m, " copies");
  std::vector<int64_t> out;
  for (int64_t i = 0; i < n; ++i) {
    std::map<int64_t, int64_t> counts;  // by increasing label: a strict > keeps the lowest on ties
    for (int64_t j = 0; j < m; ++j) ++counts[predictions[static_cast<size_t>(i * m + j)]];
    int64_t best = 0, most = 0;
    for (const auto& [label, count] : counts)
      if (count > most) best = label, most = count;
    out.push_back(best);
  }
  return out;
}

SmoothAdvResult smoothadv_attack(Classifier& model, const Tensor& x, const std::vector<int64_t>& labels,
                                 const std::vector<int64_t>& image_ids, const SmoothAdvOptions& o) {
  SC_CHECK(std::isfinite(o.eps) && o.eps > 0, "smoothadv: --eps must be positive, got ", o.eps);
  SC_CHECK(o.steps >= 1, "smoothadv: --steps must be at least 1, got ", o.steps);
  SC_CHECK(o.m >= 1, "smoothadv: --m must be at least 1, got ", o.m);
  SC_CHECK(std::isfinite(o.sigma) && o.sigma > 0, "smoothadv: --sigma must be positive, got ", o.sigma);
  SC_CHECK(std::isfinite(o.ddn_init_norm) && o.ddn_init_norm >= 0,
           "smoothadv: DDN's first norm must be positive (or 0: eps), got ", o.ddn_init_norm);
  SC_CHECK(x.dim() == 4, "smoothadv: x must be [N, C, H, W], got ", x.describe());
  const int64_t n = x.size(0), d = x.numel() / std::max<int64_t>(n, 1);
  SC_CHECK(static_cast<int64_t>(labels.size()) == n && static_cast<int64_t>(image_ids.size()) == n,
           "smoothadv: ", labels.size(), " labels and ", image_ids.size(), " ids for ", n, " images");
  const std::vector<float> clean = x.cpu().to_float_vector();
  std::vector<float> delta(clean.size(), 0.0f);
  const Ball ball{Norm::L2, o.eps};
  const LogitsLoss loss = o.loss == SmoothAdvOptions::Loss::Soft ? smoothed_soft_cross_entropy(labels, o.m)
                                                                 : mean_cross_entropy(labels, o.m);
  if (o.method == SmoothAdvOptions::Method::Pgd) {
    const double step = 2 * o.eps / o.steps;
    for (int t = 0; t < o.steps; ++t) {
      const Tensor perturbed = perturbed_images(clean, delta, x.shape(), x.device());
      const LossGradient lg = loss_gradient(model, smoothadv_noisy_copies(perturbed, image_ids, o), loss);
      const std::vector<float> g = image_gradients(lg.grad, n, o.m, d);
      for (int64_t i = 0; i < n; ++i) {
        float* di = delta.data() + i * d;
        ascent_step(ball, g.data() + i * d, step, di, d);
        clip_to_box(clean.data() + i * d, di, d);
        project(ball, di, d);
      }
    }
  } else {
    DdnOptions walk;
    walk.steps = o.steps;
    walk.gamma = o.ddn_gamma;
    walk.init_norm = o.ddn_init_norm > 0 ? o.ddn_init_norm : o.eps;
    const DdnWalk w = ddn_walk(x, walk, [&](const Tensor& iterates, bool with_gradient) {
      const LossGradient lg =
          loss_gradient(model, smoothadv_noisy_copies(iterates, image_ids, o), loss, with_gradient);
      DdnLook at;
      const std::vector<int64_t> majority = majority_labels(lg.predictions, n, o.m);
      for (int64_t i = 0; i < n; ++i)
        at.adversarial.push_back(majority[static_cast<size_t>(i)] != labels[static_cast<size_t>(i)]);
      if (with_gradient) at.grad = image_gradients(lg.grad, n, o.m, d);
      return at;
    });
    delta = w.best;
    // Into the ball (Salman et al. then round Δ to 8-bit levels again, which can leave the ball: not here).
    for (int64_t i = 0; i < n; ++i) project(ball, delta.data() + i * d, d);
  }
  SmoothAdvResult r;
  r.adversarial = perturbed_images(clean, delta, x.shape(), x.device());
  r.loss = loss_gradient(model, smoothadv_noisy_copies(r.adversarial, image_ids, o), loss, false).loss;
  return r;
}

}  // namespace sc::attacks
