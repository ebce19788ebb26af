#include "ood/score_bounds.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "nn/error.h"

namespace sc::ood {

std::vector<double> score_upper_bounds(const Tensor& lower, const Tensor& upper, Score s,
                                       double temperature) {
  SC_CHECK(lower.dim() == 2 && lower.shape() == upper.shape() && lower.size(1) >= 1,
           "score bounds: lower and upper must be the same [n, K], got ", lower.describe(), " and ",
           upper.describe());
  SC_CHECK(std::isfinite(temperature) && temperature > 0, "score bounds: the temperature must be positive");
  const int64_t n = lower.size(0), k = lower.size(1);
  const std::vector<float> lo = lower.cpu().to_float_vector(), hi = upper.cpu().to_float_vector();
  std::vector<double> out(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) {
    const float* l = lo.data() + r * k;
    const float* u = hi.data() + r * k;
    bool finite = true;
    for (int64_t j = 0; j < k; ++j) {
      finite = finite && std::isfinite(l[j]) && std::isfinite(u[j]);
      SC_CHECK(!(l[j] > u[j]), "score bounds: row ", r, " class ", j, " has bounds [", l[j], ", ", u[j], "]");
    }
    if (!finite) {  // the bounds overflowed (nn/interval.h): nothing is guaranteed
      out[static_cast<size_t>(r)] = s == Score::MaxSoftmax ? 1.0 : std::numeric_limits<double>::max();
      continue;
    }
    const double top = *std::max_element(u, u + k);
    double bound = 0;
    if (s == Score::MaxLogit) {
      bound = top;
    } else if (s == Score::Energy) {
      double sum = 0;
      for (int64_t j = 0; j < k; ++j) sum += std::exp((u[j] - top) / temperature);
      bound = top + temperature * std::log(sum);
    } else {
      for (int64_t c = 0; c < k; ++c) {
        double rest = 0;  // Σ_{j≠c} exp(lower_j − upper_c)
        for (int64_t j = 0; j < k; ++j)
          if (j != c) rest += std::exp(static_cast<double>(l[j]) - u[c]);
        bound = std::max(bound, 1.0 / (1.0 + rest));
      }
    }
    out[static_cast<size_t>(r)] = bound;
  }
  return out;
}

}  // namespace sc::ood
