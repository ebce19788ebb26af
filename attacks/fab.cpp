#include "attacks/fab.h"

#include <algorithm>
#include <cmath>
#include <functional>
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

namespace {

// The boundary a walk steps towards, linearized at the iterates xs ([m, C, H, W] on the device) of the
// batch's images `images`: for each row, the gradient w of z_t − z_y (dim values) and its value, t the class
// aimed at.
struct Linearization {
  std::vector<float> w;
  std::vector<double> gap;
};
using BoundaryAt = std::function<Linearization(const Tensor& xs, const std::vector<int64_t>& images)>;

// The state FAB's walks share: the clean images, the images kept so far, and which are done (fooled within
// ε, or misclassified to begin with).
struct FabRun {
  FabRun(Classifier& model, const Tensor& x, const std::vector<int64_t>& labels,
         const std::vector<int64_t>& image_ids, const FabOptions& o, const char* name)
      : model(model), x(x), labels(labels), ids(image_ids), o(o) {
    check(o);
    SC_CHECK(x.dim() == 4, name, ": x must be [N, C, H, W], got ", x.describe());
    n = x.size(0), dim = x.numel() / std::max<int64_t>(n, 1);
    SC_CHECK(static_cast<int64_t>(labels.size()) == n && static_cast<int64_t>(image_ids.size()) == n, name,
             ": ", labels.size(), " labels and ", image_ids.size(), " ids for ", n, " images");
    clean = x.cpu().to_float_vector();
    kept = clean;
    order = classes_by_logit(model.forward(x));
    classes = static_cast<int64_t>(order[0].size());
    done.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t y = labels[static_cast<size_t>(i)];
      SC_CHECK(y >= 0 && y < classes, "attack: label ", y, " is outside the model's ", classes, " classes");
      done[static_cast<size_t>(i)] = order[static_cast<size_t>(i)][0] != y;
    }
  }

  // One walk of o.steps for every image not done, from the image (or, with `random`, from a draw of the ε/2
  // ball numbered `start`), towards the boundary `boundary` linearizes at each iterate.
  void walk(int start, bool random, const BoundaryAt& boundary) {
    std::vector<int64_t> walking;
    for (int64_t i = 0; i < n; ++i)
      if (!done[static_cast<size_t>(i)]) walking.push_back(i);
    if (walking.empty()) return;
    const Ball start_ball{o.norm, o.eps / 2};
    std::vector<double> x1(walking.size() * static_cast<size_t>(dim));
    for (size_t k = 0; k < walking.size(); ++k) {
      const float* x0 = clean.data() + walking[k] * dim;
      std::vector<float> delta(static_cast<size_t>(dim), 0.0f);
      if (random) {
        random_start(start_ball, o.seed, static_cast<uint64_t>(ids[static_cast<size_t>(walking[k])]), start,
                     delta.data(), dim);
        clip_to_box(x0, delta.data(), dim);
      }
      for (int64_t e = 0; e < dim; ++e)
        x1[k * static_cast<size_t>(dim) + static_cast<size_t>(e)] =
            static_cast<double>(x0[e]) + delta[static_cast<size_t>(e)];
    }
    for (int step = 0; step < o.steps && !walking.empty(); ++step) {
      const int64_t m = static_cast<int64_t>(walking.size());
      std::vector<int64_t> y(static_cast<size_t>(m));
      for (int64_t k = 0; k < m; ++k) y[static_cast<size_t>(k)] = labels[static_cast<size_t>(walking[k])];
      const std::vector<float> x1f(x1.begin(), x1.end());
      const Shape shape({m, x.size(1), x.size(2), x.size(3)});
      const Linearization lin = boundary(Tensor::from_vector(x1f, shape).to(x.device()), walking);
      for (int64_t k = 0; k < m; ++k) {
        const float* x0 = clean.data() + walking[static_cast<size_t>(k)] * dim;
        const std::vector<double> xk(x1.begin() + k * dim, x1.begin() + (k + 1) * dim), origin(x0, x0 + dim),
            w(lin.w.begin() + k * dim, lin.w.begin() + (k + 1) * dim);
        // The linearized boundary at xk: w·x' = w·xk − (z_t − z_y).
        double b = -lin.gap[static_cast<size_t>(k)];
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
  AttackResult result() const {
    AttackResult r;
    r.adversarial = Tensor::from_vector(kept, x.shape()).to(x.device());
    const LossGradient final_look = loss_gradient(model, r.adversarial, margin(labels), false);
    r.predictions = final_look.predictions;
    r.loss = final_look.loss;
    for (int64_t i = 0; i < n; ++i)
      r.success.push_back(r.predictions[static_cast<size_t>(i)] != labels[static_cast<size_t>(i)]);
    return r;
  }

  Classifier& model;
  const Tensor& x;
  const std::vector<int64_t>& labels;
  const std::vector<int64_t>& ids;
  const FabOptions& o;
  int64_t n = 0, dim = 0, classes = 0;
  std::vector<float> clean, kept;
  std::vector<std::vector<int64_t>> order;  // each image's classes by decreasing logit at the image
  std::vector<bool> done;
};

std::vector<int64_t> labels_of(const std::vector<int64_t>& labels, const std::vector<int64_t>& images) {
  std::vector<int64_t> y;
  for (int64_t i : images) y.push_back(labels[static_cast<size_t>(i)]);
  return y;
}

}  // namespace

AttackResult fab_targeted_attack(Classifier& model, const Tensor& x, const std::vector<int64_t>& labels,
                                 const std::vector<int64_t>& image_ids, const FabOptions& o) {
  FabRun run(model, x, labels, image_ids, o, "fab_targeted_attack");
  const int64_t ranks = std::min<int64_t>(o.targets, run.classes - 1);
  for (int64_t rank = 1; rank <= ranks; ++rank) {
    // Each image's class of this rank at the image.
    const BoundaryAt towards_rank = [&](const Tensor& xs, const std::vector<int64_t>& images) {
      std::vector<int64_t> target;
      for (int64_t i : images) target.push_back(run.order[static_cast<size_t>(i)][static_cast<size_t>(rank)]);
      const LossGradient lg = loss_gradient(model, xs, logit_gap(labels_of(labels, images), target));
      return Linearization{lg.grad.cpu().to_float_vector(), lg.loss};
    };
    for (int restart = 0; restart < o.restarts; ++restart)
      run.walk(static_cast<int>((rank - 1) * o.restarts + restart), restart > 0, towards_rank);
  }
  return run.result();
}

AttackResult fab_attack(Classifier& model, const Tensor& x, const std::vector<int64_t>& labels,
                        const std::vector<int64_t>& image_ids, const FabOptions& o) {
  FabRun run(model, x, labels, image_ids, o, "fab_attack");
  // At each iterate, the boundary of the class whose linearized boundary is nearest: |z_t − z_y| over the
  // dual norm of ∇(z_t − z_y) (ℓ1 for ℓ∞, ℓ2 for ℓ2), one forward pass and a backward pass per class.
  const BoundaryAt nearest = [&](const Tensor& xs, const std::vector<int64_t>& images) {
    const std::vector<int64_t> y = labels_of(labels, images);
    const size_t m = images.size(), dim = static_cast<size_t>(run.dim);
    Linearization best{std::vector<float>(m * dim), std::vector<double>(m)};
    std::vector<double> distance(m, std::numeric_limits<double>::infinity());
    const LogitsAt at(model, xs);  // one forward pass, then a backward pass per class
    for (int64_t t = 0; t < run.classes; ++t) {
      std::vector<int64_t> target(m, t);
      for (size_t k = 0; k < m; ++k)
        if (y[k] == t) target[k] = (t + 1) % run.classes;  // a class of its own; not chosen below
      const LossGradient lg = at.evaluate(logit_gap(y, target));
      const std::vector<float> g = lg.grad.cpu().to_float_vector();
      for (size_t k = 0; k < m; ++k) {
        if (y[k] == t) continue;
        double dual = 0;
        for (size_t e = 0; e < dim; ++e) {
          const double v = g[k * dim + e];
          dual += o.norm == Norm::Linf ? std::fabs(v) : v * v;
        }
        if (o.norm == Norm::L2) dual = std::sqrt(dual);
        const double d = std::fabs(lg.loss[k]) / (dual + 1e-12);
        if (d < distance[k]) {
          distance[k] = d;
          best.gap[k] = lg.loss[k];
          std::copy(g.begin() + static_cast<int64_t>(k * dim),
                    g.begin() + static_cast<int64_t>((k + 1) * dim),
                    best.w.begin() + static_cast<int64_t>(k * dim));
        }
      }
    }
    return best;
  };
  for (int restart = 0; restart < o.restarts; ++restart) run.walk(restart, restart > 0, nearest);
  return run.result();
}

}  // namespace sc::attacks
