#include "attacks/fab.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "attacks/loss_gradient.h"
#include "attacks/perturbation.h"
#include "nn/error.h"

namespace sc::attacks {

std::vector<double> project_onto_hyperplane(Norm norm, const std::vector<double>& t,
                                            const std::vector<double>& w, double b) {
  SC_CHECK(t.size() == w.size(), "project_onto_hyperplane: ", t.size(), " coordinates and ", w.size(),
           " weights");
  const size_t n = t.size();
  double change = b;  // what w·d must be
  for (size_t i = 0; i < n; ++i) change -= w[i] * t[i];
  std::vector<double> d(n, 0.0);
  if (change == 0) return d;
  // Coordinate i moves by m_i ≥ 0 in the direction sign(change·w_i), as far as the box allows (its cap), and
  // changes w·x by |w_i|·m_i. The smallest step moves every coordinate by min(λ, cap_i) (ℓ∞) or
  // min(λ|w_i|, cap_i) (ℓ2: the KKT conditions make d parallel to w until a coordinate meets the box), with λ
  // the smallest value for which the changes add up to |change|. The total f(λ) is piecewise linear and
  // increasing, with a kink where each coordinate reaches its cap: sweep the kinks in order.
  struct Move {
    size_t i;
    double cap, rate, kink;  // f's slope from this coordinate (until its kink)
  };
  std::vector<Move> moves;
  for (size_t i = 0; i < n; ++i) {
    if (w[i] == 0) continue;
    const double cap = (change > 0) == (w[i] > 0) ? 1 - t[i] : t[i];
    if (cap <= 0) continue;
    const double per_lambda = norm == Norm::Linf ? 1 : std::fabs(w[i]);  // dm_i/dλ before the cap
    moves.push_back({i, cap, std::fabs(w[i]) * per_lambda, cap / per_lambda});
  }
  std::sort(moves.begin(), moves.end(), [](const Move& a, const Move& c) { return a.kink < c.kink; });
  const double need = std::fabs(change);
  double reached = 0, slope = 0;  // f = reached + slope·λ between the kinks passed and the next one
  for (const Move& m : moves) slope += m.rate;
  double lambda = std::numeric_limits<double>::infinity();  // infeasible: every coordinate at its cap
  for (const Move& m : moves) {
    if (slope > 0 && reached + slope * m.kink >= need) {
      lambda = (need - reached) / slope;
      break;
    }
    reached += m.cap * std::fabs(w[m.i]);
    slope -= m.rate;
  }
  for (const Move& m : moves) {
    const double step = std::min(m.cap, lambda * (m.rate / std::fabs(w[m.i])));
    d[m.i] = (change > 0) == (w[m.i] > 0) ? step : -step;
  }
  return d;
}

namespace {

double size_of(Norm norm, const double* v, int64_t n) {
  double s = 0;
  for (int64_t e = 0; e < n; ++e) s = norm == Norm::Linf ? std::max(s, std::fabs(v[e])) : s + v[e] * v[e];
  return norm == Norm::Linf ? s : std::sqrt(s);
}

void check(const FabOptions& o) {
  SC_CHECK(std::isfinite(o.eps) && o.eps > 0, "attack: --eps must be positive, got ", o.eps);
  SC_CHECK(o.steps >= 1, "attack: --steps must be at least 1, got ", o.steps);
  SC_CHECK(o.targets >= 1, "attack: --targets must be at least 1, got ", o.targets);
  SC_CHECK(o.restarts >= 1, "attack: --restarts must be at least 1, got ", o.restarts);
}

}  // namespace

AttackResult fab_targeted_attack(Classifier& model, const Tensor& x, const std::vector<int64_t>& labels,
                                 const std::vector<int64_t>& image_ids, const FabOptions& o) {
  check(o);
  SC_CHECK(x.dim() == 4, "fab_targeted_attack: x must be [N, C, H, W], got ", x.describe());
  const int64_t n = x.size(0), dim = x.numel() / std::max<int64_t>(n, 1);
  SC_CHECK(static_cast<int64_t>(labels.size()) == n && static_cast<int64_t>(image_ids.size()) == n,
           "fab_targeted_attack: ", labels.size(), " labels and ", image_ids.size(), " ids for ", n,
           " images");
  const std::vector<float> clean = x.cpu().to_float_vector();
  const Tensor logits = model.forward(x);
  const int64_t classes = logits.size(1);
  const std::vector<std::vector<int64_t>> order = classes_by_logit(logits);
  std::vector<float> kept = clean;
  std::vector<bool> done(static_cast<size_t>(n));  // fooled within ε (or misclassified to begin with)
  for (int64_t i = 0; i < n; ++i) {
    SC_CHECK(labels[static_cast<size_t>(i)] >= 0 && labels[static_cast<size_t>(i)] < classes,
             "attack: label ", labels[static_cast<size_t>(i)], " is outside the model's ", classes,
             " classes");
    done[static_cast<size_t>(i)] = order[static_cast<size_t>(i)][0] != labels[static_cast<size_t>(i)];
  }
  const Ball start_ball{o.norm, o.eps / 2};
  const int64_t ranks = std::min<int64_t>(o.targets, classes - 1);
  for (int64_t rank = 1; rank <= ranks; ++rank)
    for (int restart = 0; restart < o.restarts; ++restart) {
      // One walk per image not yet fooled, towards its class of this rank.
      std::vector<int64_t> walking;
      for (int64_t i = 0; i < n; ++i)
        if (!done[static_cast<size_t>(i)]) walking.push_back(i);
      if (walking.empty()) break;
      std::vector<double> x1(walking.size() * static_cast<size_t>(dim));
      for (size_t k = 0; k < walking.size(); ++k) {
        const float* x0 = clean.data() + walking[k] * dim;
        std::vector<float> delta(static_cast<size_t>(dim), 0.0f);
        if (restart > 0) {
          random_start(start_ball, o.seed, static_cast<uint64_t>(image_ids[static_cast<size_t>(walking[k])]),
                       static_cast<int>((rank - 1) * o.restarts + restart), delta.data(), dim);
          clip_to_box(x0, delta.data(), dim);
        }
        for (int64_t e = 0; e < dim; ++e)
          x1[k * static_cast<size_t>(dim) + static_cast<size_t>(e)] =
              static_cast<double>(x0[e]) + delta[static_cast<size_t>(e)];
      }
      for (int step = 0; step < o.steps && !walking.empty(); ++step) {
        const int64_t m = static_cast<int64_t>(walking.size());
        std::vector<int64_t> y(static_cast<size_t>(m)), target(static_cast<size_t>(m));
        for (int64_t k = 0; k < m; ++k) {
          const auto i = static_cast<size_t>(walking[static_cast<size_t>(k)]);
          y[static_cast<size_t>(k)] = labels[i];
          target[static_cast<size_t>(k)] = order[i][static_cast<size_t>(rank)];
        }
        const std::vector<float> x1f(x1.begin(), x1.end());
        const Shape shape({m, x.size(1), x.size(2), x.size(3)});
        const LossGradient lg =
            loss_gradient(model, Tensor::from_vector(x1f, shape).to(x.device()), logit_gap(y, target));
        const std::vector<float> g = lg.grad.cpu().to_float_vector();
        for (int64_t k = 0; k < m; ++k) {
          const float* x0 = clean.data() + walking[static_cast<size_t>(k)] * dim;
          const std::vector<double> xk(x1.begin() + k * dim, x1.begin() + (k + 1) * dim),
              origin(x0, x0 + dim), w(g.begin() + k * dim, g.begin() + (k + 1) * dim);
          // The linearized boundary at xk: w·x' = w·xk − (z_t − z_y).
          double b = -lg.loss[static_cast<size_t>(k)];
          for (int64_t e = 0; e < dim; ++e) b += w[static_cast<size_t>(e)] * xk[static_cast<size_t>(e)];
          const std::vector<double> d1 = project_onto_hyperplane(o.norm, xk, w, b),
                                    d2 = project_onto_hyperplane(o.norm, origin, w, b);
          const double a1 = std::max(size_of(o.norm, d1.data(), dim), 1e-8),
                       a2 = std::max(size_of(o.norm, d2.data(), dim), 1e-8);
          const double alpha = std::min(a1 / (a1 + a2), o.alpha_max);
          for (int64_t e = 0; e < dim; ++e) {
            const auto u = static_cast<size_t>(e);
            x1[static_cast<size_t>(k * dim + e)] = std::clamp(
                (xk[u] + o.eta * d1[u]) * (1 - alpha) + (origin[u] + o.eta * d2[u]) * alpha, 0.0, 1.0);
          }
        }
        // Where the new iterates cross: kept if within ε (the image is done), and the walk steps back.
        const std::vector<float> moved(x1.begin(), x1.end());
        const LossGradient at =
            loss_gradient(model, Tensor::from_vector(moved, shape).to(x.device()), margin(y), false);
        std::vector<int64_t> still;
        std::vector<double> next;
        for (int64_t k = 0; k < m; ++k) {
          const auto i = static_cast<size_t>(walking[static_cast<size_t>(k)]);
          double* xk = x1.data() + k * dim;
          const float* x0 = clean.data() + static_cast<int64_t>(i) * dim;
          if (at.predictions[static_cast<size_t>(k)] != labels[i]) {
            std::vector<double> delta(static_cast<size_t>(dim));
            for (int64_t e = 0; e < dim; ++e) delta[static_cast<size_t>(e)] = xk[e] - x0[e];
            if (size_of(o.norm, delta.data(), dim) <= o.eps) {
              std::copy(moved.begin() + k * dim, moved.begin() + (k + 1) * dim,
                        kept.begin() + static_cast<int64_t>(i) * dim);
              done[i] = true;
              continue;
            }
            for (int64_t e = 0; e < dim; ++e) xk[e] = x0[e] + o.beta * delta[static_cast<size_t>(e)];
          }
          still.push_back(static_cast<int64_t>(i));
          next.insert(next.end(), xk, xk + dim);
        }
        walking = std::move(still);
        x1 = std::move(next);
      }
    }
  // What the model says at the images kept.
  AttackResult r;
  r.adversarial = Tensor::from_vector(kept, x.shape()).to(x.device());
  const LossGradient final_look = loss_gradient(model, r.adversarial, margin(labels), false);
  r.predictions = final_look.predictions;
  r.loss = final_look.loss;
  for (int64_t i = 0; i < n; ++i)
    r.success.push_back(r.predictions[static_cast<size_t>(i)] != labels[static_cast<size_t>(i)]);
  return r;
}

}  // namespace sc::attacks
