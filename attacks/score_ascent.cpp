#include "attacks/score_ascent.h"

#include <algorithm>

#include "attacks/perturbation.h"
#include "nn/error.h"

namespace sc::attacks {

AscentResult maximize_objective(Classifier& model, const Tensor& x, const std::vector<int64_t>& image_ids,
                                const LogitsLoss& objective, const PgdOptions& o) {
  check_options(o);
  SC_CHECK(x.dim() == 4, "maximize_objective: x must be [N, C, H, W], got ", x.describe());
  const int64_t n = x.size(0), d = x.numel() / std::max<int64_t>(n, 1);
  SC_CHECK(static_cast<int64_t>(image_ids.size()) == n, "maximize_objective: ", image_ids.size(), " ids for ",
           n, " images");
  const std::vector<float> clean = x.cpu().to_float_vector();
  const Ball ball{o.norm, o.eps};
  std::vector<float> best = clean, delta(clean.size(), 0.0f);
  AscentResult r;
  r.value.assign(static_cast<size_t>(n), -1e300);

  for (int restart = 0; restart < o.restarts; ++restart) {
    for (int64_t i = 0; i < n; ++i) {
      float* di = delta.data() + i * d;
      std::fill(di, di + d, 0.0f);
      if (restart == 0) continue;
      random_start(ball, o.seed, static_cast<uint64_t>(image_ids[static_cast<size_t>(i)]), restart, di, d);
      clip_to_box(clean.data() + i * d, di, d);
    }
    for (int step = 0; step <= o.steps; ++step) {
      const bool last = step == o.steps;
      const LossGradient lg =
          loss_gradient(model, perturbed_images(clean, delta, x.shape(), x.device()), objective, !last);
      for (int64_t i = 0; i < n; ++i) {
        const auto k = static_cast<size_t>(i);
        if (lg.loss[k] <= r.value[k]) continue;
        r.value[k] = lg.loss[k];
        for (int64_t e = 0; e < d; ++e) best[k * d + e] = clean[k * d + e] + delta[k * d + e];
      }
      if (last) break;
      const std::vector<float> g = lg.grad.cpu().to_float_vector();
      for (int64_t i = 0; i < n; ++i) {
        float* di = delta.data() + i * d;
        ascent_step(ball, g.data() + i * d, o.step_size, di, d);
        project(ball, di, d);
        clip_to_box(clean.data() + i * d, di, d);
      }
    }
  }
  r.best = Tensor::from_vector(best, x.shape()).to(x.device());
  return r;
}

}  // namespace sc::attacks
