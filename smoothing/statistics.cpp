#include "smoothing/statistics.h"

#include <cmath>
#include <limits>

#include "nn/error.h"

namespace sc::stats {

namespace {

constexpr double kLn2Pi = 1.8378770664093454836;  // log(2π)

// stirlerr(n) = log(n!) − log(√(2πn)·(n/e)^n), Stirling's series for large n.
double stirlerr(double n) {
  if (n <= 15.0) return std::lgamma(n + 1.0) - (n + 0.5) * std::log(n) + n - 0.5 * kLn2Pi;
  constexpr double s0 = 1.0 / 12, s1 = 1.0 / 360, s2 = 1.0 / 1260, s3 = 1.0 / 1680, s4 = 1.0 / 1188;
  const double nn = n * n;
  if (n > 500) return (s0 - s1 / nn) / n;
  if (n > 80) return (s0 - (s1 - s2 / nn) / nn) / n;
  if (n > 35) return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n;
  return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n;
}

// bd0(x, m) = x·log(x/m) + m − x, summed as a series when x is close to m (where the direct form cancels).
double bd0(double x, double m) {
  if (std::fabs(x - m) < 0.1 * (x + m)) {
    double v = (x - m) / (x + m), s = (x - m) * v, ej = 2 * x * v;
    const double v2 = v * v;
    for (int j = 1; j < 1000; ++j) {
      ej *= v2;
      const double s1 = s + ej / (2 * j + 1);
      if (s1 == s) return s1;
      s = s1;
    }
    return s;
  }
  return x * std::log(x / m) + m - x;
}

double pmf(int64_t k, int64_t n, double p, double q) {
  if (k < 0 || k > n) return 0.0;
  if (p == 0) return k == 0 ? 1.0 : 0.0;
  if (q == 0) return k == n ? 1.0 : 0.0;
  const double x = static_cast<double>(k), nn = static_cast<double>(n);
  if (k == 0) return std::exp(p < 0.1 ? nn * std::log1p(-p) : nn * std::log(q));
  if (k == n) return std::exp(q < 0.1 ? nn * std::log1p(-q) : nn * std::log(p));
  const double lc = stirlerr(nn) - stirlerr(x) - stirlerr(nn - x) - bd0(x, nn * p) - bd0(nn - x, nn * q);
  const double lf = kLn2Pi + std::log(x) + std::log1p(-x / nn);
  return std::exp(lc - 0.5 * lf);
}

// Σ pmf over j ≥ k (upward) or j ≤ k (downward), starting at k and stopping when terms no longer matter.
// Only called on the side of k away from the mode, where terms decrease.
double tail_sum(int64_t k, int64_t n, double p, double q, bool upward) {
  double t = pmf(k, n, p, q), sum = 0.0;
  for (int64_t j = k; upward ? j <= n : j >= 0;) {
    sum += t;
    if (t <= sum * 1e-17 || t == 0.0) break;
    if (upward) {
      t *= static_cast<double>(n - j) / static_cast<double>(j + 1) * (p / q);
      ++j;
    } else {
      t *= static_cast<double>(j) / static_cast<double>(n - j + 1) * (q / p);
      --j;
    }
  }
  return sum;
}

void check_probability(double p, const char* what) {
  SC_CHECK(p >= 0.0 && p <= 1.0, what, ": probability must be in [0, 1], got ", p);
}

}  // namespace

double binomial_pmf(int64_t k, int64_t n, double p) {
  check_probability(p, "binomial_pmf");
  return pmf(k, n, p, 1.0 - p);
}

double binomial_cdf(int64_t k, int64_t n, double p) {
  check_probability(p, "binomial_cdf");
  if (k < 0) return 0.0;
  if (k >= n) return 1.0;
  const double q = 1.0 - p;
  if (p == 0) return 1.0;
  if (q == 0) return 0.0;
  const double mode = std::floor((static_cast<double>(n) + 1) * p);
  if (static_cast<double>(k) < mode) return tail_sum(k, n, p, q, false);
  return 1.0 - tail_sum(k + 1, n, p, q, true);
}

double binomial_sf(int64_t k, int64_t n, double p) {
  check_probability(p, "binomial_sf");
  if (k < 0) return 1.0;
  if (k >= n) return 0.0;
  const double q = 1.0 - p;
  if (p == 0) return 0.0;
  if (q == 0) return 1.0;
  const double mode = std::floor((static_cast<double>(n) + 1) * p);
  if (static_cast<double>(k + 1) > mode) return tail_sum(k + 1, n, p, q, true);
  return 1.0 - tail_sum(k, n, p, q, false);
}

double clopper_pearson_lower(int64_t k, int64_t n, double alpha) {
  SC_CHECK(n > 0 && k >= 0 && k <= n, "clopper_pearson_lower: need 0 <= k <= n, n > 0 (k=", k, ", n=", n, ")");
  SC_CHECK(alpha > 0 && alpha < 1, "clopper_pearson_lower: alpha must be in (0, 1), got ", alpha);
  if (k == 0) return 0.0;
  if (k == n) return std::pow(alpha, 1.0 / static_cast<double>(n));  // Beta(n, 1) quantile, closed form
  // The bound p solves P(X ≥ k | p) = alpha, a strictly increasing function of p; bisection to full precision.
  double lo = 0.0, hi = static_cast<double>(k) / static_cast<double>(n);
  for (int it = 0; it < 2000 && hi - lo > 4e-16 * hi; ++it) {
    const double mid = 0.5 * (lo + hi);
    if (binomial_sf(k - 1, n, mid) < alpha)
      lo = mid;
    else
      hi = mid;
  }
  return 0.5 * (lo + hi);
}

double binomial_test_two_sided(int64_t k, int64_t n, double p) {
  SC_CHECK(n > 0 && k >= 0 && k <= n, "binomial_test: need 0 <= k <= n, n > 0 (k=", k, ", n=", n, ")");
  check_probability(p, "binomial_test");
  const double q = 1.0 - p, np = static_cast<double>(n) * p;
  const double d = pmf(k, n, p, q);
  const double rerr = 1 + 1e-7;  // scipy's relative tolerance for "as extreme as"
  // scipy's binary search for the last index on the far side of the mode whose pmf is within d·rerr.
  auto search = [&](auto a, double target, int64_t lo, int64_t hi) {
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo) / 2;
      const double v = a(mid);
      if (v < target)
        lo = mid + 1;
      else if (v > target)
        hi = mid - 1;
      else
        return mid;
    }
    return a(lo) <= target ? lo : lo - 1;
  };
  double pval;
  if (static_cast<double>(k) == np) return 1.0;
  if (static_cast<double>(k) < np) {
    const int64_t ix = search([&](int64_t x) { return -pmf(x, n, p, q); }, -d * rerr,
                              static_cast<int64_t>(std::ceil(np)), n);
    const int64_t y = n - ix + (d * rerr == pmf(ix, n, p, q) ? 1 : 0);
    pval = binomial_cdf(k, n, p) + binomial_sf(n - y, n, p);
  } else {
    const int64_t ix = search([&](int64_t x) { return pmf(x, n, p, q); }, d * rerr, 0,
                              static_cast<int64_t>(std::floor(np)));
    const int64_t y = ix + 1;
    pval = binomial_cdf(y - 1, n, p) + binomial_sf(k - 1, n, p);
  }
  return std::min(1.0, pval);
}

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

double normal_ppf(double p) {
  SC_CHECK(p >= 0.0 && p <= 1.0, "normal_ppf: p must be in [0, 1], got ", p);
  if (p == 0.0) return -std::numeric_limits<double>::infinity();
  if (p == 1.0) return std::numeric_limits<double>::infinity();
  if (p == 0.5) return 0.0;
  // Work in the smaller tail t = min(p, 1 − p) (1 − p is exact for p ≥ 0.5): x = −Φ⁻¹(t) ≥ 0.
  const bool upper = p > 0.5;
  const double t = upper ? 1.0 - p : p;
  // Start from Abramowitz & Stegun 26.2.23 (error < 4.5e-4), then Halley steps on Q(x) = t.
  const double r = std::sqrt(-2.0 * std::log(t));
  double x = r - (2.515517 + 0.802853 * r + 0.010328 * r * r) / (1.0 + 1.432788 * r + 0.189269 * r * r +
                                                                  0.001308 * r * r * r);
  for (int it = 0; it < 6; ++it) {
    const double e = 0.5 * std::erfc(x / std::sqrt(2.0)) - t;  // Q(x) − t
    const double density = std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI);
    const double u = e / density;
    const double step = u / (1.0 - 0.5 * x * u);  // Halley on f = Q − t: f' = −φ, f'' = x·φ
    x += step;
    if (std::fabs(step) <= 1e-16 * std::fabs(x)) break;
  }
  return upper ? x : -x;
}

}  // namespace sc::stats
