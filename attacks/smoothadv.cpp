#include "attacks/smoothadv.h"

#include <cmath>

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

SmoothAdvResult smoothadv_attack(Classifier& model, const Tensor& x, const std::vector<int64_t>& labels,
                                 const std::vector<int64_t>& image_ids, const SmoothAdvOptions& o) {
  SC_CHECK(std::isfinite(o.eps) && o.eps > 0, "smoothadv: --eps must be positive, got ", o.eps);
  SC_CHECK(o.steps >= 1, "smoothadv: --steps must be at least 1, got ", o.steps);
  SC_CHECK(o.m >= 1, "smoothadv: --m must be at least 1, got ", o.m);
  SC_CHECK(std::isfinite(o.sigma) && o.sigma > 0, "smoothadv: --sigma must be positive, got ", o.sigma);
  SC_CHECK(x.dim() == 4, "smoothadv: x must be [N, C, H, W], got ", x.describe());
  const int64_t n = x.size(0), d = x.numel() / std::max<int64_t>(n, 1);
  SC_CHECK(static_cast<int64_t>(labels.size()) == n && static_cast<int64_t>(image_ids.size()) == n,
           "smoothadv: ", labels.size(), " labels and ", image_ids.size(), " ids for ", n, " images");
  const std::vector<float> clean = x.cpu().to_float_vector();
  std::vector<float> delta(clean.size(), 0.0f);
  const Ball ball{Norm::L2, o.eps};
  const double step = 2 * o.eps / o.steps;
  const LogitsLoss loss = o.loss == SmoothAdvOptions::Loss::Soft ? smoothed_soft_cross_entropy(labels, o.m)
                                                                 : mean_cross_entropy(labels, o.m);
  for (int t = 0; t < o.steps; ++t) {
    const Tensor perturbed = perturbed_images(clean, delta, x.shape(), x.device());
    const LossGradient lg = loss_gradient(model, smoothadv_noisy_copies(perturbed, image_ids, o), loss);
    const std::vector<float> g = lg.grad.cpu().to_float_vector();  // [N·m, C, H, W]
    std::vector<float> gi(static_cast<size_t>(d));
    for (int64_t i = 0; i < n; ++i) {
      // ∇_Δ of image i's loss: its m copies' gradients added (x + Δ + δ_j depends on Δ with unit Jacobian).
      std::fill(gi.begin(), gi.end(), 0.0f);
      for (int64_t j = 0; j < o.m; ++j)
        for (int64_t e = 0; e < d; ++e)
          gi[static_cast<size_t>(e)] += g[static_cast<size_t>((i * o.m + j) * d + e)];
      float* di = delta.data() + i * d;
      ascent_step(ball, gi.data(), step, di, d);
      clip_to_box(clean.data() + i * d, di, d);
      project(ball, di, d);
    }
  }
  SmoothAdvResult r;
  r.adversarial = perturbed_images(clean, delta, x.shape(), x.device());
  r.loss = loss_gradient(model, smoothadv_noisy_copies(r.adversarial, image_ids, o), loss, false).loss;
  return r;
}

}  // namespace sc::attacks
