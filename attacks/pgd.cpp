#include "attacks/pgd.h"

#include <algorithm>
#include <cmath>

#include "attacks/loss_gradient.h"
#include "attacks/perturbation.h"
#include "nn/error.h"

namespace sc::attacks {

Norm parse_norm(const std::string& s) {
  if (s == "linf") return Norm::Linf;
  if (s == "l2") return Norm::L2;
  SC_FAIL("unknown norm '", s, "' (linf, l2)");
}

const char* norm_name(Norm n) {
  return n == Norm::Linf ? "linf" : "l2";
}

PgdOptions fgsm_options(Norm norm, double eps) {
  PgdOptions o;
  o.norm = norm;
  o.eps = eps;
  o.steps = 1;
  o.step_size = eps;
  o.random_start = false;
  o.restarts = 1;
  return o;
}

void check_options(const PgdOptions& o) {
  SC_CHECK(std::isfinite(o.eps) && o.eps > 0, "attack: --eps must be positive, got ", o.eps);
  SC_CHECK(o.steps >= 1, "attack: --steps must be at least 1, got ", o.steps);
  SC_CHECK(std::isfinite(o.step_size) && o.step_size > 0, "attack: --step-size must be positive, got ",
           o.step_size);
  SC_CHECK(o.restarts >= 1, "attack: --restarts must be at least 1, got ", o.restarts);
}

AttackResult pgd_attack(Classifier& model, const Tensor& x, const std::vector<int64_t>& labels,
                        const std::vector<int64_t>& image_ids, const PgdOptions& o) {
  check_options(o);
  SC_CHECK(x.dim() == 4, "pgd_attack: x must be [N, C, H, W], got ", x.describe());
  const int64_t n = x.size(0), d = x.numel() / std::max<int64_t>(n, 1);
  SC_CHECK(static_cast<int64_t>(labels.size()) == n && static_cast<int64_t>(image_ids.size()) == n,
           "pgd_attack: ", labels.size(), " labels and ", image_ids.size(), " ids for ", n, " images");
  const Device device = x.device();
  const std::vector<float> clean = x.cpu().to_float_vector();
  const Ball ball{o.norm, o.eps};

  AttackResult r;
  std::vector<float> best = clean, delta(clean.size(), 0.0f);
  r.predictions.assign(static_cast<size_t>(n), -1);
  r.success.assign(static_cast<size_t>(n), false);
  r.loss.assign(static_cast<size_t>(n), 0.0);

  for (int restart = 0; restart < o.restarts; ++restart) {
    std::vector<bool> active(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      active[static_cast<size_t>(i)] = !r.success[static_cast<size_t>(i)];
      float* di = delta.data() + i * d;
      std::fill(di, di + d, 0.0f);
      if (!active[static_cast<size_t>(i)] || !o.random_start) continue;
      random_start(ball, o.seed, static_cast<uint64_t>(image_ids[static_cast<size_t>(i)]), restart, di, d);
      clip_to_box(clean.data() + i * d, di, d);
    }
    if (std::none_of(active.begin(), active.end(), [](bool a) { return a; })) break;
    // Evaluate at the start and after each step; an image fooled at an iterate keeps it and stops.
    for (int step = 0; step <= o.steps; ++step) {
      const bool last = step == o.steps;
      const LossGradient lg = loss_gradient(model, perturbed_images(clean, delta, x.shape(), x.device()),
                                            cross_entropy(labels), !last);
      for (int64_t i = 0; i < n; ++i) {
        const auto k = static_cast<size_t>(i);
        if (!active[k]) continue;
        r.predictions[k] = lg.predictions[k];
        r.loss[k] = lg.loss[k];
        for (int64_t e = 0; e < d; ++e) best[k * d + e] = clean[k * d + e] + delta[k * d + e];
        const bool hit = o.targeted ? lg.predictions[k] == labels[k] : lg.predictions[k] != labels[k];
        if (hit) r.success[k] = true, active[k] = false;
      }
      if (last || std::none_of(active.begin(), active.end(), [](bool a) { return a; })) break;
      const std::vector<float> g = lg.grad.cpu().to_float_vector();
      for (int64_t i = 0; i < n; ++i) {
        if (!active[static_cast<size_t>(i)]) continue;
        float* di = delta.data() + i * d;
        ascent_step(ball, g.data() + i * d, o.targeted ? -o.step_size : o.step_size, di, d);
        project(ball, di, d);
        clip_to_box(clean.data() + i * d, di, d);
      }
    }
  }
  r.adversarial = Tensor::from_vector(best, x.shape()).to(device);
  return r;
}

}  // namespace sc::attacks
