#include "attacks/square.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "attacks/loss_gradient.h"
#include "nn/error.h"

namespace sc::attacks {

double square_share(double p_init, int it, int queries) {
  // AutoAttack's schedule is written for 10,000 queries; other budgets are mapped onto it.
  const int64_t at = static_cast<int64_t>(static_cast<double>(it) / queries * 10000);
  static const int64_t kEdges[] = {10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000};
  double p = p_init;
  for (int64_t edge : kEdges)
    if (at > edge) p /= 2;
  return p;
}

namespace {

struct Geometry {
  int64_t c, h, w;
  int64_t at(int64_t ch, int64_t r, int64_t col) const { return (ch * h + r) * w + col; }
};

// Rings of weight 1/(k+1)² around the centre of a rows × cols rectangle (the k-th ring: the square of
// half-width k), normalized to unit ℓ2 norm: half of the Square Attack's ℓ2 pattern.
std::vector<double> rings(int64_t rows, int64_t cols) {
  std::vector<double> e(static_cast<size_t>(rows * cols), 0.0);
  for (int64_t k = 0, r0 = rows / 2, c0 = cols / 2; k <= std::max(rows, cols) / 2; ++k, --r0, --c0) {
    const double weight = 1.0 / static_cast<double>((k + 1) * (k + 1));
    for (int64_t r = std::max<int64_t>(r0, 0); r < std::min(r0 + 2 * k + 1, rows); ++r)
      for (int64_t col = std::max<int64_t>(c0, 0); col < std::min(c0 + 2 * k + 1, cols); ++col)
        e[static_cast<size_t>(r * cols + col)] += weight;
  }
  double norm = 0;
  for (double v : e) norm += v * v;
  norm = std::sqrt(norm);
  for (double& v : e) v /= norm;
  return e;
}

// The s × s ℓ2 pattern η: the upper s/2 rows rings, the lower ones minus rings, unit norm; η and its
// transpose are drawn with equal odds.
class Patterns {
 public:
  const std::vector<double>& get(int64_t s) {
    auto it = cache_.find(s);
    if (it != cache_.end()) return it->second;
    std::vector<double> eta(static_cast<size_t>(s * s));
    const std::vector<double> top = rings(s / 2, s), bottom = rings(s - s / 2, s);
    std::copy(top.begin(), top.end(), eta.begin());
    for (size_t k = 0; k < bottom.size(); ++k) eta[top.size() + k] = -bottom[k];
    double norm = 0;
    for (double v : eta) norm += v * v;
    for (double& v : eta) v /= std::sqrt(norm);
    return cache_.emplace(s, std::move(eta)).first->second;
  }

 private:
  std::map<int64_t, std::vector<double>> cache_;
};

double pattern_at(const std::vector<double>& eta, int64_t s, bool transposed, int64_t r, int64_t col) {
  return transposed ? eta[static_cast<size_t>(col * s + r)] : eta[static_cast<size_t>(r * s + col)];
}

double sign(std::mt19937_64& rng) {
  return (rng() >> 63) ? 1.0 : -1.0;
}

int64_t position(std::mt19937_64& rng, int64_t size, int64_t s) {
  return std::uniform_int_distribution<int64_t>(0, size - s)(rng);
}

// point ← clip(clean + delta · ε/‖delta‖₂) to [0, 1].
void onto_sphere(const float* clean, const std::vector<double>& delta, double eps, float* point) {
  double norm = 0;
  for (double v : delta) norm += v * v;
  const double scale = eps / (std::sqrt(norm) + 1e-12);
  for (size_t e = 0; e < delta.size(); ++e)
    point[e] = std::clamp(static_cast<float>(clean[e] + delta[e] * scale), 0.0f, 1.0f);
}

// The starting points.
void linf_start(const Geometry& g, double eps, std::mt19937_64& rng, const float* clean, float* point) {
  for (int64_t ch = 0; ch < g.c; ++ch)
    for (int64_t col = 0; col < g.w; ++col) {
      const double v = eps * sign(rng);
      for (int64_t r = 0; r < g.h; ++r) {
        const int64_t e = g.at(ch, r, col);
        point[e] = std::clamp(static_cast<float>(clean[e] + v), 0.0f, 1.0f);
      }
    }
}

void l2_start(const Geometry& g, double eps, Patterns& patterns, std::mt19937_64& rng, const float* clean,
              float* point) {
  const int64_t s = std::max<int64_t>(g.h / 5, 1), rows = g.h / s, cols = g.w / s;
  const int64_t top = (g.h - rows * s) / 2, left = (g.w - cols * s) / 2;
  std::vector<double> delta(static_cast<size_t>(g.c * g.h * g.w), 0.0);
  const std::vector<double>& eta = patterns.get(s);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      const bool transposed = rng() >> 63;
      for (int64_t ch = 0; ch < g.c; ++ch) {
        const double v = sign(rng);
        for (int64_t r = 0; r < s; ++r)
          for (int64_t col = 0; col < s; ++col)
            delta[static_cast<size_t>(g.at(ch, top + i * s + r, left + j * s + col))] +=
                v * pattern_at(eta, s, transposed, r, col);
      }
    }
  onto_sphere(clean, delta, eps, point);
}

// The next try from the best point.
void linf_try(const Geometry& g, double eps, int64_t s, std::mt19937_64& rng, const float* clean,
              float* point) {
  const int64_t vh = position(rng, g.h, s), vw = position(rng, g.w, s);
  for (int64_t ch = 0; ch < g.c; ++ch) {
    const double v = eps * sign(rng);
    for (int64_t r = vh; r < vh + s; ++r)
      for (int64_t col = vw; col < vw + s; ++col) {
        const int64_t e = g.at(ch, r, col);
        point[e] = std::clamp(static_cast<float>(clean[e] + v), 0.0f, 1.0f);
      }
  }
}

void l2_try(const Geometry& g, double eps, int64_t s, Patterns& patterns, std::mt19937_64& rng,
            const float* clean, float* point) {
  const int64_t d = g.c * g.h * g.w;
  const int64_t vh = position(rng, g.h, s), vw = position(rng, g.w, s);
  const int64_t vh2 = position(rng, g.h, s), vw2 = position(rng, g.w, s);
  const bool transposed = rng() >> 63;
  std::vector<double> delta(static_cast<size_t>(d));
  for (int64_t e = 0; e < d; ++e) delta[static_cast<size_t>(e)] = static_cast<double>(point[e]) - clean[e];
  const auto in_window = [s](int64_t r, int64_t col, int64_t top, int64_t left) {
    return r >= top && r < top + s && col >= left && col < left + s;
  };
  double image = 0, windows = 0;  // squared norms of delta and of its part in either window
  for (int64_t ch = 0; ch < g.c; ++ch)
    for (int64_t r = 0; r < g.h; ++r)
      for (int64_t col = 0; col < g.w; ++col) {
        const double v = delta[static_cast<size_t>(g.at(ch, r, col))];
        image += v * v;
        if (in_window(r, col, vh, vw) || in_window(r, col, vh2, vw2)) windows += v * v;
      }
  // Each channel's window gets the mass of both windows and the budget left under ε.
  const double budget = std::sqrt(std::max(eps * eps - image, 0.0) / static_cast<double>(g.c) + windows);
  const std::vector<double>& eta = patterns.get(s);
  std::vector<std::vector<double>> fresh(static_cast<size_t>(g.c),
                                         std::vector<double>(static_cast<size_t>(s * s)));
  for (int64_t ch = 0; ch < g.c; ++ch) {
    const double v = sign(rng);
    double old = 0;
    for (int64_t r = 0; r < s; ++r)
      for (int64_t col = 0; col < s; ++col) {
        const double o = delta[static_cast<size_t>(g.at(ch, vh + r, vw + col))];
        old += o * o;
      }
    old = std::sqrt(old) + 1e-12;
    std::vector<double>& f = fresh[static_cast<size_t>(ch)];
    double norm = 0;
    for (int64_t r = 0; r < s; ++r)
      for (int64_t col = 0; col < s; ++col) {
        double& fv = f[static_cast<size_t>(r * s + col)];
        fv = v * pattern_at(eta, s, transposed, r, col) +
             delta[static_cast<size_t>(g.at(ch, vh + r, vw + col))] / old;
        norm += fv * fv;
      }
    for (double& fv : f) fv *= budget / (std::sqrt(norm) + 1e-12);
  }
  for (int64_t ch = 0; ch < g.c; ++ch)
    for (int64_t r = 0; r < s; ++r)
      for (int64_t col = 0; col < s; ++col) delta[static_cast<size_t>(g.at(ch, vh2 + r, vw2 + col))] = 0;
  for (int64_t ch = 0; ch < g.c; ++ch)
    for (int64_t r = 0; r < s; ++r)
      for (int64_t col = 0; col < s; ++col)
        delta[static_cast<size_t>(g.at(ch, vh + r, vw + col))] =
            fresh[static_cast<size_t>(ch)][static_cast<size_t>(r * s + col)];
  onto_sphere(clean, delta, eps, point);
}

// The side of the window at query `it`: ℓ∞ at least 1, ℓ2 odd and at least 3; at most the image's side.
int64_t window_side(const SquareOptions& o, const Geometry& g, int it) {
  const double p = square_share(o.p_init, it, o.queries);
  int64_t s = std::llround(std::sqrt(p * static_cast<double>(g.h * g.w)));
  if (o.norm == Norm::Linf)
    s = std::max<int64_t>(s, 1);
  else if ((s = std::max<int64_t>(s, 3)) % 2 == 0)
    ++s;
  return std::min({s, g.h, g.w});
}

}  // namespace

AttackResult square_attack(Classifier& model, const Tensor& x, const std::vector<int64_t>& labels,
                           const std::vector<int64_t>& image_ids, const SquareOptions& o) {
  SC_CHECK(x.dim() == 4, "square_attack: x must be [N, C, H, W], got ", x.describe());
  const int64_t n = x.size(0);
  SC_CHECK(static_cast<int64_t>(labels.size()) == n && static_cast<int64_t>(image_ids.size()) == n,
           "square_attack: ", labels.size(), " labels and ", image_ids.size(), " ids for ", n, " images");
  SC_CHECK(std::isfinite(o.eps) && o.eps > 0, "attack: --eps must be positive, got ", o.eps);
  SC_CHECK(o.queries >= 1, "attack: --queries must be at least 1, got ", o.queries);
  SC_CHECK(o.p_init > 0 && o.p_init <= 1, "attack: --p-init must be in (0, 1], got ", o.p_init);
  const Geometry g{x.size(1), x.size(2), x.size(3)};
  const int64_t d = g.c * g.h * g.w;
  const std::vector<float> clean = x.cpu().to_float_vector();
  std::vector<float> best(clean.size());
  std::vector<std::mt19937_64> rng;
  Patterns patterns;
  for (int64_t i = 0; i < n; ++i) {
    const auto id = static_cast<uint64_t>(image_ids[static_cast<size_t>(i)]);
    std::seed_seq seq{static_cast<uint32_t>(o.seed), static_cast<uint32_t>(o.seed >> 32),
                      static_cast<uint32_t>(id), static_cast<uint32_t>(id >> 32), 0x53515541u};
    rng.emplace_back(seq);
    if (o.norm == Norm::Linf)
      linf_start(g, o.eps, rng.back(), clean.data() + i * d, best.data() + i * d);
    else
      l2_start(g, o.eps, patterns, rng.back(), clean.data() + i * d, best.data() + i * d);
  }
  const LossGradient first =
      loss_gradient(model, Tensor::from_vector(best, x.shape()).to(x.device()), margin(labels), false);
  AttackResult r;
  r.loss = first.loss;
  r.predictions = first.predictions;
  r.success.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    r.success[static_cast<size_t>(i)] =
        r.predictions[static_cast<size_t>(i)] != labels[static_cast<size_t>(i)];

  std::vector<float> tries;
  std::vector<int64_t> searching, searching_labels;
  for (int it = 0; it < o.queries; ++it) {
    searching.clear(), searching_labels.clear();
    for (int64_t i = 0; i < n; ++i)
      if (!r.success[static_cast<size_t>(i)])
        searching.push_back(i), searching_labels.push_back(labels[static_cast<size_t>(i)]);
    if (searching.empty()) break;
    const int64_t m = static_cast<int64_t>(searching.size()), s = window_side(o, g, it);
    tries.resize(static_cast<size_t>(m * d));
    for (int64_t k = 0; k < m; ++k) {
      const int64_t i = searching[static_cast<size_t>(k)];
      float* point = tries.data() + k * d;
      std::copy(best.begin() + i * d, best.begin() + (i + 1) * d, point);
      if (o.norm == Norm::Linf)
        linf_try(g, o.eps, s, rng[static_cast<size_t>(i)], clean.data() + i * d, point);
      else
        l2_try(g, o.eps, s, patterns, rng[static_cast<size_t>(i)], clean.data() + i * d, point);
    }
    const LossGradient lg =
        loss_gradient(model, Tensor::from_vector(tries, {m, g.c, g.h, g.w}).to(x.device()),
                      margin(searching_labels), false);
    for (int64_t k = 0; k < m; ++k) {
      const auto i = static_cast<size_t>(searching[static_cast<size_t>(k)]);
      const auto kk = static_cast<size_t>(k);
      const bool fooled = lg.predictions[kk] != labels[i];
      if (!(lg.loss[kk] < r.loss[i] || fooled)) continue;
      std::copy(tries.begin() + k * d, tries.begin() + (k + 1) * d,
                best.begin() + static_cast<int64_t>(i) * d);
      r.loss[i] = lg.loss[kk];
      r.predictions[i] = lg.predictions[kk];
      r.success[i] = fooled;
    }
  }
  r.adversarial = Tensor::from_vector(best, x.shape()).to(x.device());
  return r;
}

}  // namespace sc::attacks
