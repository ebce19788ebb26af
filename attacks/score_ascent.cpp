#include "attacks/score_ascent.h"

#include <algorithm>

#include "nn/error.h"

namespace sc::attacks {

namespace {
int64_t image_count(const char* what, const Tensor& x, size_t ids) {
  SC_CHECK(x.dim() == 4, what, ": x must be [N, C, H, W], got ", x.describe());
  SC_CHECK(static_cast<int64_t>(ids) == x.size(0), what, ": ", ids, " ids for ", x.size(0), " images");
  return x.size(0);
}
}  // namespace

AscentTracker::AscentTracker(const char* what, const Tensor& x, const std::vector<int64_t>& image_ids,
                             const PgdOptions& o)
    : n(image_count(what, x, image_ids.size())),
      d(x.numel() / std::max<int64_t>(n, 1)),
      ball{o.norm, o.eps},
      x_(x),
      ids_(image_ids),
      o_(o) {
  check_options(o);
  clean = x.cpu().to_float_vector();
  delta.assign(clean.size(), 0.0f);
  best_ = clean;
  value_.assign(static_cast<size_t>(n), -1e300);
}

void AscentTracker::start(int restart) {
  for (int64_t i = 0; i < n; ++i) {
    float* di = delta.data() + i * d;
    std::fill(di, di + d, 0.0f);
    if (restart == 0) continue;
    random_start(ball, o_.seed, static_cast<uint64_t>(ids_[static_cast<size_t>(i)]), restart, di, d);
    clip_to_box(clean.data() + i * d, di, d);
  }
}

Tensor AscentTracker::iterate() const {
  return perturbed_images(clean, delta, x_.shape(), x_.device());
}

void AscentTracker::record(const LossGradient& lg) {
  for (int64_t i = 0; i < n; ++i) {
    const auto k = static_cast<size_t>(i);
    if (lg.loss[k] <= value_[k]) continue;
    value_[k] = lg.loss[k];
    for (int64_t e = 0; e < d; ++e) best_[k * d + e] = clean[k * d + e] + delta[k * d + e];
  }
}

AscentResult AscentTracker::result() const {
  return {Tensor::from_vector(best_, x_.shape()).to(x_.device()), value_};
}

AscentResult maximize_objective(Classifier& model, const Tensor& x, const std::vector<int64_t>& image_ids,
                                const LogitsLoss& objective, const PgdOptions& o) {
  AscentTracker t("maximize_objective", x, image_ids, o);
  for (int restart = 0; restart < o.restarts; ++restart) {
    t.start(restart);
    for (int step = 0; step <= o.steps; ++step) {
      const bool last = step == o.steps;
      const LossGradient lg = loss_gradient(model, t.iterate(), objective, !last);
      t.record(lg);
      if (last) break;
      const std::vector<float> g = lg.grad.cpu().to_float_vector();
      for (int64_t i = 0; i < t.n; ++i) {
        float* di = t.delta.data() + i * t.d;
        ascent_step(t.ball, g.data() + i * t.d, o.step_size, di, t.d);
        project(t.ball, di, t.d);
        clip_to_box(t.clean.data() + i * t.d, di, t.d);
      }
    }
  }
  return t.result();
}

}  // namespace sc::attacks
