// Scalar log-space helpers in double, for the host-side losses and combinations of [N, K] values.
#pragma once
#include <algorithm>
#include <cmath>

namespace sc {

// log(1 + e^t) without overflow.
inline double softplus(double t) {
  return t > 0 ? t + std::log1p(std::exp(-t)) : std::log1p(std::exp(t));
}

// log(e^a + e^b) without overflow (−inf when both are).
inline double logaddexp(double a, double b) {
  const double m = std::max(a, b);
  if (std::isinf(m) && m < 0) return m;
  return m + std::log1p(std::exp(-std::abs(a - b)));
}

}  // namespace sc
