// Scalar log-space helpers in double, for the host-side losses and combinations of [N, K] values.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

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

// The softmax of one row of k values in double, shifted by the row's maximum so that nothing overflows.
inline void softmax_row(const double* z, int64_t k, double* s) {
  const double top = *std::max_element(z, z + k);
  double sum = 0;
  for (int64_t j = 0; j < k; ++j) sum += s[j] = std::exp(z[j] - top);
  for (int64_t j = 0; j < k; ++j) s[j] /= sum;
}

}  // namespace sc
