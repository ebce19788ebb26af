// The smoothing statistics against scipy (fixtures from make_fixtures.py) and REFERENCE.md's check values.
#include <cmath>

#include "io/npy.h"
#include "smoothing/statistics.h"
#include "test_util.h"

namespace sc::test {
namespace {

std::vector<double> table(const std::string& name, int64_t& rows, int64_t cols) {
  Shape s;
  std::vector<double> v = io::read_npy_f64(fixture_dir() + "/stats/" + name, &s);
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(s[1], cols);
  rows = s[0];
  return v;
}

void expect_rel(double got, double want, double rel, const std::string& what) {
  if (want == 0) {  // an exact zero, or a value below double range in the reference
    EXPECT_LE(std::fabs(got), 1e-15) << what;
    return;
  }
  EXPECT_LE(std::fabs(got - want), rel * std::fabs(want)) << what << ": got " << got << ", scipy " << want;
}

TEST(Statistics, ClopperPearsonMatchesScipy) {
  int64_t rows;
  const auto t = table("clopper_pearson.npy", rows, 4);
  ASSERT_GT(rows, 100);
  for (int64_t r = 0; r < rows; ++r) {
    const auto k = static_cast<int64_t>(t[4 * r]), n = static_cast<int64_t>(t[4 * r + 1]);
    expect_rel(stats::clopper_pearson_lower(k, n, t[4 * r + 2]), t[4 * r + 3], 1e-10,
               "CP k=" + std::to_string(k) + " n=" + std::to_string(n) + " alpha=" + std::to_string(t[4 * r + 2]));
  }
}

TEST(Statistics, BinomialTestMatchesScipy) {
  int64_t rows;
  const auto t = table("binomtest.npy", rows, 4);
  for (int64_t r = 0; r < rows; ++r) {
    const auto k = static_cast<int64_t>(t[4 * r]), n = static_cast<int64_t>(t[4 * r + 1]);
    expect_rel(stats::binomial_test_two_sided(k, n, t[4 * r + 2]), t[4 * r + 3], 1e-10,
               "binomtest k=" + std::to_string(k) + " n=" + std::to_string(n) + " p=" + std::to_string(t[4 * r + 2]));
  }
}

// Against 40-digit values (mpmath), 1e-11; against scipy 1e-9, because scipy's own binomial functions are off by
// up to 3e-10 at n = 1e7 (e.g. pmf(0; 1e7, 1e-6): scipy 4.5399702750e-05, exact 4.5399702763e-05).
TEST(Statistics, BinomialDistributionMatchesHighPrecisionAndScipy) {
  int64_t rows;
  const auto t = table("binomial.npy", rows, 9);
  for (int64_t r = 0; r < rows; ++r) {
    const double* row = &t[9 * r];
    const auto k = static_cast<int64_t>(row[0]), n = static_cast<int64_t>(row[1]);
    const std::string what = "k=" + std::to_string(k) + " n=" + std::to_string(n) + " p=" + std::to_string(row[2]);
    const double ours[3] = {stats::binomial_pmf(k, n, row[2]), stats::binomial_cdf(k, n, row[2]),
                            stats::binomial_sf(k, n, row[2])};
    const char* names[3] = {"pmf ", "cdf ", "sf "};
    for (int f = 0; f < 3; ++f) {
      expect_rel(ours[f], row[6 + f], 1e-11, names[f] + what + " (40-digit)");
      expect_rel(ours[f], row[3 + f], 1e-9, names[f] + what + " (scipy)");
    }
  }
}

TEST(Statistics, NormalQuantileMatchesScipy) {
  int64_t rows;
  const auto t = table("normal_ppf.npy", rows, 2);
  for (int64_t r = 0; r < rows; ++r) expect_rel(stats::normal_ppf(t[2 * r]), t[2 * r + 1], 1e-12, "ppf " + std::to_string(t[2 * r]));
  EXPECT_EQ(stats::normal_ppf(0.5), 0.0);
  EXPECT_TRUE(std::isinf(stats::normal_ppf(1.0)));
  // Round trips in the lower tail, where p carries full relative precision.
  for (double x : {-30.0, -6.0, -1.0, 0.3, 2.0}) expect_rel(stats::normal_ppf(stats::normal_cdf(x)), x, 1e-9, "round trip");
}

// REFERENCE.md's check values: (nA, N, alpha) → pA_lower and R/σ = Φ⁻¹(pA_lower).
TEST(Statistics, CohenCheckValues) {
  struct Case {
    int64_t k, n;
    double alpha, p, r;
  };
  const Case cases[] = {{100000, 100000, .001, .99993092, 3.81146}, {99000, 100000, .001, .98898934, 2.29000},
                        {90000, 100000, .001, .89703650, 1.26484},  {60000, 100000, .001, .59520105, .24094},
                        {50500, 100000, .001, .50010895, .00027},   {5100, 10000, .001, .49449931, -1},
                        {100, 100, .001, .93325430, 1.50048},       {9500, 10000, .01, .94469920, 1.59549}};
  for (const auto& c : cases) {
    const double p = stats::clopper_pearson_lower(c.k, c.n, c.alpha);
    EXPECT_NEAR(p, c.p, 5e-9) << c.k << "/" << c.n;
    if (c.r >= 0) EXPECT_NEAR(stats::normal_ppf(p), c.r, 5e-6) << c.k << "/" << c.n;
    else EXPECT_LT(p, 0.5) << "must abstain";
  }
  // The largest radius: σ·Φ⁻¹(α^(1/N)) = 3.8115σ for N = 1e5, α = 1e-3.
  EXPECT_NEAR(stats::normal_ppf(std::pow(0.001, 1e-5)), 3.8115, 5e-5);
}

TEST(Statistics, BadArgumentsAreRejected) {
  EXPECT_ERROR_MENTIONS(stats::clopper_pearson_lower(5, 4, 0.01), "k <= n");
  EXPECT_ERROR_MENTIONS(stats::clopper_pearson_lower(1, 4, 1.5), "alpha");
  EXPECT_ERROR_MENTIONS(stats::binomial_test_two_sided(-1, 4), "0 <= k");
  EXPECT_ERROR_MENTIONS(stats::normal_ppf(std::nan("")), "normal_ppf");
  EXPECT_EQ(stats::clopper_pearson_lower(0, 10, 0.01), 0.0);
}

}  // namespace
}  // namespace sc::test
