#include "attacks/apgd.h"

#include <algorithm>
#include <cmath>

#include "attacks/attack_state.h"
#include "nn/error.h"

namespace sc::attacks {

std::vector<int> apgd_checkpoints(int steps) {
  std::vector<int> w;
  double before = 0, p = 0.22;
  while (p <= 1) {
    const int at = static_cast<int>(std::ceil(p * steps - 1e-9));
    if (at > 0 && (w.empty() || at > w.back()) && at < steps) w.push_back(at);
    const double next = p + std::max(p - before - 0.03, 0.06);
    before = p, p = next;
  }
  return w;
}

namespace {

// One image's walk: its step size, the previous iterate, the best point and loss so far, and the counts the
// checkpoint rule reads.
struct Walk {
  double eta = 0, best_loss = -1e300, best_at_checkpoint = 0, last_loss = 0;
  int raised = 0;                     // steps since the last checkpoint that raised the loss
  bool halved_at_checkpoint = false;  // whether the last checkpoint halved η
  std::vector<float> previous, best;
};

}  // namespace

AttackResult apgd_attack(Classifier& model, const Tensor& x, const std::vector<int64_t>& labels,
                         const std::vector<int64_t>& image_ids, const PgdOptions& o) {
  PgdOptions untargeted = o;
  untargeted.targeted = false;
  AttackState a("apgd_attack", x, labels, image_ids, untargeted);
  const int64_t n = a.n, d = a.d;
  const std::vector<float>& clean = a.clean;
  std::vector<float>& delta = a.delta;
  const std::vector<int> checkpoints = apgd_checkpoints(o.steps);
  constexpr double kMomentum = 0.75, kRaisedShare = 0.75;
  for (int restart = 0; restart < o.restarts && a.start(restart); ++restart) {
    std::vector<Walk> walks(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      Walk& w = walks[static_cast<size_t>(i)];
      w.eta = 2 * o.eps;
      w.previous.assign(delta.begin() + i * d, delta.begin() + (i + 1) * d);
      w.best = w.previous;
    }
    size_t next_checkpoint = 0;
    int since_checkpoint = 0;
    for (int step = 0; step <= o.steps; ++step) {
      const bool last = step == o.steps;
      const LossGradient lg = loss_gradient(model, a.iterate(), cross_entropy(labels), !last);
      for (int64_t i = 0; i < n; ++i) {  // the walks' bookkeeping, before record() retires the fooled
        const auto k = static_cast<size_t>(i);
        if (!a.active[k]) continue;
        Walk& w = walks[k];
        const float* di = delta.data() + i * d;
        if (step == 0) w.best_at_checkpoint = lg.loss[k];
        if (step > 0 && lg.loss[k] > w.last_loss) ++w.raised;
        w.last_loss = lg.loss[k];
        if (lg.loss[k] > w.best_loss) w.best_loss = lg.loss[k], w.best.assign(di, di + d);
      }
      a.record(lg);
      if (last || !a.any_active()) break;
      // At a checkpoint, halve η and go back to the best point where the walk stalled.
      const bool at_checkpoint = next_checkpoint < checkpoints.size() && step == checkpoints[next_checkpoint];
      const int span = since_checkpoint;
      if (at_checkpoint) ++next_checkpoint, since_checkpoint = 0;
      ++since_checkpoint;
      const std::vector<float> g = lg.grad.cpu().to_float_vector();
      for (int64_t i = 0; i < n; ++i) {
        const auto k = static_cast<size_t>(i);
        if (!a.active[k]) continue;
        Walk& w = walks[k];
        float* di = delta.data() + i * d;
        bool restart_from_best = false;
        if (at_checkpoint) {
          // The paper's two conditions: too few steps raised the loss, or η was kept last time and the best
          // loss has not improved since.
          const bool few_raised = w.raised < kRaisedShare * span;
          const bool stalled = !w.halved_at_checkpoint && w.best_loss <= w.best_at_checkpoint;
          restart_from_best = few_raised || stalled;
          if (restart_from_best) w.eta /= 2;
          w.halved_at_checkpoint = restart_from_best;
          w.raised = 0, w.best_at_checkpoint = w.best_loss;
        }
        if (restart_from_best) {  // x_{k+1} = the best point (the paper's Algorithm 1): this step moves there
          w.previous.assign(di, di + d);
          std::copy(w.best.begin(), w.best.end(), di);
          continue;
        }
        std::vector<float> z(di, di + d);
        ascent_step(a.ball, g.data() + i * d, w.eta, z.data(), d);
        project(a.ball, z.data(), d);
        clip_to_box(clean.data() + i * d, z.data(), d);
        if (step == 0) {  // the first step is plain PGD
          w.previous.assign(di, di + d);
          std::copy(z.begin(), z.end(), di);
          continue;
        }
        for (int64_t e = 0; e < d; ++e) {
          const float now = di[e];
          di[e] =
              static_cast<float>(now + kMomentum * (z[e] - now) + (1 - kMomentum) * (now - w.previous[e]));
          w.previous[e] = now;
        }
        project(a.ball, di, d);
        clip_to_box(clean.data() + i * d, di, d);
      }
    }
  }
  return a.result();
}

}  // namespace sc::attacks
