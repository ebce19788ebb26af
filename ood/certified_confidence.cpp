#include "ood/certified_confidence.h"

#include <algorithm>
#include <cmath>

#include "nn/error.h"
#include "smoothing/statistics.h"

namespace sc::ood {

ConfidenceInterval hoeffding_interval(double mean, int64_t n, double alpha) {
  SC_CHECK(mean >= 0 && mean <= 1, "hoeffding_interval: the mean of scores in [0, 1] is ", mean);
  SC_CHECK(n >= 1, "hoeffding_interval: no samples");
  SC_CHECK(alpha > 0 && alpha < 1, "hoeffding_interval: alpha must be in (0, 1), got ", alpha);
  const double half = std::sqrt(std::log(1 / alpha) / (2 * static_cast<double>(n)));
  return {mean, std::max(0.0, mean - half), std::min(1.0, mean + half)};
}

namespace {
void check_ball(double p, double radius, double sigma) {
  SC_CHECK(p >= 0 && p <= 1, "certified confidence: the bound ", p, " is not a probability");
  SC_CHECK(radius >= 0 && std::isfinite(radius), "certified confidence: radius must be finite and >= 0, got ",
           radius);
  SC_CHECK(sigma > 0 && std::isfinite(sigma), "certified confidence: sigma must be positive, got ", sigma);
}
}  // namespace

double certified_upper(double upper, double radius, double sigma) {
  check_ball(upper, radius, sigma);
  return stats::normal_cdf(stats::normal_ppf(upper) + radius / sigma);  // Φ(±∞) = 0 or 1 at the ends
}

double certified_lower(double lower, double radius, double sigma) {
  check_ball(lower, radius, sigma);
  return stats::normal_cdf(stats::normal_ppf(lower) - radius / sigma);
}

}  // namespace sc::ood
