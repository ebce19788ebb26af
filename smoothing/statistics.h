// The statistics of randomized smoothing, in double precision and accurate to ~1e-12 relative for n up to 1e7:
// binomial probabilities (Loader's saddle-point form), the one-sided Clopper–Pearson bound, the exact two-sided
// binomial test with scipy.stats.binomtest semantics, and the standard normal CDF and quantile.
#pragma once
#include <cstdint>

namespace sc::stats {

double binomial_pmf(int64_t k, int64_t n, double p);
double binomial_cdf(int64_t k, int64_t n, double p);  // P(X ≤ k)
double binomial_sf(int64_t k, int64_t n, double p);   // P(X > k)

// Lower end of the one-sided (1 − alpha) Clopper–Pearson interval for a success probability after k successes
// in n trials: Beta⁻¹(alpha; k, n − k + 1), and 0 when k = 0.
double clopper_pearson_lower(int64_t k, int64_t n, double alpha);
// Two-sided p-value of the exact binomial test of k successes in n trials against p (scipy.stats.binomtest).
double binomial_test_two_sided(int64_t k, int64_t n, double p = 0.5);

double normal_cdf(double x);
double normal_ppf(double p);  // Φ⁻¹(p); −inf at 0, +inf at 1

}  // namespace sc::stats
