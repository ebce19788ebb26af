#include "attacks/apgd.h"

#include <algorithm>
#include <cmath>

#include "attacks/attack_state.h"
#include "attacks/perturbation.h"
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

// The APGD walks of n images from one start (delta as it stands), shared by the untargeted attack and the
// maximization of an objective: per step, observe() each image's loss at the iterate, then advance() every
// image still walking by its gradient.
class ApgdWalks {
 public:
  ApgdWalks(const Ball& ball, int steps, const std::vector<float>& clean, std::vector<float>& delta,
            int64_t n)
      : ball_(ball),
        checkpoints_(apgd_checkpoints(steps)),
        clean_(clean),
        delta_(delta),
        n_(n),
        d_(static_cast<int64_t>(delta.size()) / std::max<int64_t>(n, 1)),
        walks_(static_cast<size_t>(n)) {
    for (int64_t i = 0; i < n_; ++i) {
      Walk& w = walks_[static_cast<size_t>(i)];
      w.eta = 2 * ball.eps;
      w.previous.assign(delta_.begin() + i * d_, delta_.begin() + (i + 1) * d_);
      w.best = w.previous;
    }
  }

  // Image i's loss at the iterate of `step`: the bookkeeping of the checkpoint rule and the walk's best
  // point.
  void observe(int step, int64_t i, double loss) {
    Walk& w = walks_[static_cast<size_t>(i)];
    const float* di = delta_.data() + i * d_;
    if (step == 0) w.best_at_checkpoint = loss;
    if (step > 0 && loss > w.last_loss) ++w.raised;
    w.last_loss = loss;
    if (loss > w.best_loss) w.best_loss = loss, w.best.assign(di, di + d_);
  }

  // One step for every image with walking[i] (g: the gradients at the iterate, [n·d]). At a checkpoint, η
  // halves and the walk goes back to its best point where it stalled.
  void advance(int step, const std::vector<float>& g, const std::vector<bool>& walking) {
    const bool at_checkpoint =
        next_checkpoint_ < checkpoints_.size() && step == checkpoints_[next_checkpoint_];
    const int span = since_checkpoint_;
    if (at_checkpoint) ++next_checkpoint_, since_checkpoint_ = 0;
    ++since_checkpoint_;
    for (int64_t i = 0; i < n_; ++i) {
      const auto k = static_cast<size_t>(i);
      if (!walking[k]) continue;
      Walk& w = walks_[k];
      float* di = delta_.data() + i * d_;
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
        w.previous.assign(di, di + d_);
        std::copy(w.best.begin(), w.best.end(), di);
        continue;
      }
      std::vector<float> z(di, di + d_);
      ascent_step(ball_, g.data() + i * d_, w.eta, z.data(), d_);
      project(ball_, z.data(), d_);
      clip_to_box(clean_.data() + i * d_, z.data(), d_);
      if (step == 0) {  // the first step is plain PGD
        w.previous.assign(di, di + d_);
        std::copy(z.begin(), z.end(), di);
        continue;
      }
      for (int64_t e = 0; e < d_; ++e) {
        const float now = di[e];
        di[e] = static_cast<float>(now + kMomentum * (z[e] - now) + (1 - kMomentum) * (now - w.previous[e]));
        w.previous[e] = now;
      }
      project(ball_, di, d_);
      clip_to_box(clean_.data() + i * d_, di, d_);
    }
  }

 private:
  static constexpr double kMomentum = 0.75, kRaisedShare = 0.75;
  const Ball ball_;
  const std::vector<int> checkpoints_;
  const std::vector<float>& clean_;
  std::vector<float>& delta_;
  const int64_t n_, d_;
  std::vector<Walk> walks_;
  size_t next_checkpoint_ = 0;
  int since_checkpoint_ = 0;
};

// One APGD walk of every image still under attack from its start (a.delta as a.start left it), on `loss`,
// each gradient the mean of `eot` draws.
void walk_from_start(Classifier& model, AttackState& a, const LogitsLoss& loss, int steps, int eot) {
  ApgdWalks walks(a.ball, steps, a.clean, a.delta, a.n);
  for (int step = 0; step <= steps; ++step) {
    const bool last = step == steps;
    const LossGradient lg = eot_loss_gradient(model, a.iterate(), loss, eot, !last);
    for (int64_t i = 0; i < a.n; ++i)  // the walks' bookkeeping, before record() retires the fooled
      if (a.active[static_cast<size_t>(i)]) walks.observe(step, i, lg.loss[static_cast<size_t>(i)]);
    a.record(lg);
    if (last || !a.any_active()) break;
    walks.advance(step, lg.grad.cpu().to_float_vector(), a.active);
  }
}

PgdOptions untargeted(const PgdOptions& o) {
  PgdOptions u = o;
  u.targeted = false;
  return u;
}

}  // namespace

AttackResult apgd_attack(Classifier& model, const Tensor& x, const std::vector<int64_t>& labels,
                         const std::vector<int64_t>& image_ids, const PgdOptions& o) {
  const PgdOptions u = untargeted(o);
  AttackState a("apgd_attack", x, labels, image_ids, u);
  for (int restart = 0; restart < o.restarts && a.start(restart); ++restart)
    walk_from_start(model, a, attack_loss(u, labels), o.steps, o.eot);
  return a.result();
}

AttackResult apgd_targeted_attack(Classifier& model, const Tensor& x, const std::vector<int64_t>& labels,
                                  const std::vector<int64_t>& image_ids, const PgdOptions& o, int targets) {
  const PgdOptions u = untargeted(o);
  AttackState a("apgd_targeted_attack", x, labels, image_ids, u);
  const Tensor logits = model.forward(x);
  const int64_t classes = logits.size(1);
  SC_CHECK(classes >= 4, "apgd-t: the targeted DLR loss needs at least 4 classes, the model has ", classes);
  SC_CHECK(targets >= 1, "apgd-t: --targets must be at least 1, got ", targets);
  const int64_t ranks = std::min<int64_t>(targets, classes - 1);
  const std::vector<std::vector<int64_t>> order = classes_by_logit(logits);
  std::vector<int64_t> aim(static_cast<size_t>(a.n));
  for (int64_t rank = 1; rank <= ranks; ++rank) {
    for (int64_t i = 0; i < a.n; ++i)
      aim[static_cast<size_t>(i)] = order[static_cast<size_t>(i)][static_cast<size_t>(rank)];
    for (int restart = 0; restart < o.restarts; ++restart) {
      if (!a.start(static_cast<int>((rank - 1) * o.restarts + restart))) return a.result();
      walk_from_start(model, a, dlr_targeted(labels, aim), o.steps, o.eot);
    }
  }
  return a.result();
}

AscentResult apgd_maximize_objective(Classifier& model, const Tensor& x,
                                     const std::vector<int64_t>& image_ids, const LogitsLoss& objective,
                                     const PgdOptions& o) {
  AscentTracker t("apgd_maximize_objective", x, image_ids, o);
  const std::vector<bool> everyone(static_cast<size_t>(t.n), true);
  for (int restart = 0; restart < o.restarts; ++restart) {
    t.start(restart);
    ApgdWalks walks(t.ball, o.steps, t.clean, t.delta, t.n);
    for (int step = 0; step <= o.steps; ++step) {
      const bool last = step == o.steps;
      const LossGradient lg = loss_gradient(model, t.iterate(), objective, !last);
      for (int64_t i = 0; i < t.n; ++i) walks.observe(step, i, lg.loss[static_cast<size_t>(i)]);
      t.record(lg);
      if (last) break;
      walks.advance(step, lg.grad.cpu().to_float_vector(), everyone);
    }
  }
  return t.result();
}

}  // namespace sc::attacks
