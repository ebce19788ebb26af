#include "ood/score_objective.h"

#include <algorithm>
#include <cmath>

namespace sc::ood {

attacks::LogitsLoss score_objective(Score s, double temperature) {
  return [s, temperature](const std::vector<double>& z, int64_t rows, int64_t classes,
                          std::vector<double>& value, std::vector<double>& dz) {
    value.assign(static_cast<size_t>(rows), 0.0);
    for (int64_t r = 0; r < rows; ++r) {
      const double* l = z.data() + r * classes;
      double* d = dz.data() + r * classes;
      const int64_t c = std::max_element(l, l + classes) - l;
      const double t = s == Score::Energy ? temperature : 1.0;
      double sum = 0;  // softmax(l/t), shifted by the maximum
      for (int64_t j = 0; j < classes; ++j) sum += d[j] = std::exp((l[j] - l[c]) / t);
      for (int64_t j = 0; j < classes; ++j) d[j] /= sum;
      if (s == Score::Energy) {
        value[static_cast<size_t>(r)] = l[c] + t * std::log(sum);
      } else if (s == Score::MaxLogit) {
        value[static_cast<size_t>(r)] = l[c];
        std::fill(d, d + classes, 0.0);
        d[c] = 1.0;
      } else {
        const double sc = d[c];
        value[static_cast<size_t>(r)] = sc;
        for (int64_t j = 0; j < classes; ++j) d[j] = -sc * d[j];
        d[c] += sc;
      }
    }
  };
}

}  // namespace sc::ood
