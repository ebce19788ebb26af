#include "attacks/attack_state.h"

#include <algorithm>

#include "nn/error.h"

namespace sc::attacks {

namespace {
int64_t images_of(const char* attack, const Tensor& x, size_t labels, size_t ids) {
  SC_CHECK(x.dim() == 4, attack, ": x must be [N, C, H, W], got ", x.describe());
  SC_CHECK(static_cast<int64_t>(labels) == x.size(0) && static_cast<int64_t>(ids) == x.size(0), attack, ": ",
           labels, " labels and ", ids, " ids for ", x.size(0), " images");
  return x.size(0);
}
}  // namespace

AttackState::AttackState(const char* attack, const Tensor& x, const std::vector<int64_t>& labels,
                         const std::vector<int64_t>& image_ids, const PgdOptions& o)
    : n(images_of(attack, x, labels.size(), image_ids.size())),
      d(x.numel() / std::max<int64_t>(n, 1)),
      ball{o.norm, o.eps},
      x_(x),
      labels_(labels),
      ids_(image_ids),
      o_(o) {
  check_options(o);
  clean = x.cpu().to_float_vector();
  delta.assign(clean.size(), 0.0f);
  kept_ = clean;
  active.assign(static_cast<size_t>(n), false);
  r_.predictions.assign(static_cast<size_t>(n), -1);
  r_.success.assign(static_cast<size_t>(n), false);
  r_.loss.assign(static_cast<size_t>(n), 0.0);
}

bool AttackState::start(int restart) {
  for (int64_t i = 0; i < n; ++i) {
    const auto k = static_cast<size_t>(i);
    active[k] = !r_.success[k];
    float* di = delta.data() + i * d;
    std::fill(di, di + d, 0.0f);
    if (!active[k] || !o_.random_start) continue;
    random_start(ball, o_.seed, static_cast<uint64_t>(ids_[k]), restart, di, d);
    clip_to_box(clean.data() + i * d, di, d);
  }
  return any_active();
}

Tensor AttackState::iterate() const {
  return perturbed_images(clean, delta, x_.shape(), x_.device());
}

void AttackState::record(const LossGradient& lg) {
  for (int64_t i = 0; i < n; ++i) {
    const auto k = static_cast<size_t>(i);
    if (!active[k]) continue;
    r_.predictions[k] = lg.predictions[k];
    r_.loss[k] = lg.loss[k];
    for (int64_t e = 0; e < d; ++e) kept_[k * d + e] = clean[k * d + e] + delta[k * d + e];
    const bool hit = o_.targeted ? lg.predictions[k] == labels_[k] : lg.predictions[k] != labels_[k];
    if (!o_.stop_at_success)
      r_.success[k] = hit;  // of the iterate kept: the last
    else if (hit)
      r_.success[k] = true, active[k] = false;
  }
}

bool AttackState::any_active() const {
  return std::any_of(active.begin(), active.end(), [](bool a) { return a; });
}

AttackResult AttackState::result() const {
  AttackResult r = r_;
  r.adversarial = Tensor::from_vector(kept_, x_.shape()).to(x_.device());
  return r;
}

}  // namespace sc::attacks
