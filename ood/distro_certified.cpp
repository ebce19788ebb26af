#include "ood/distro_certified.h"

#include <cmath>

#include "nn/error.h"
#include "nn/log_math.h"

namespace sc::ood {

std::vector<std::vector<double>> distro_certified_scores(const std::vector<Certificate>& certificates,
                                                         const Tensor& logits,
                                                         const std::vector<double>& radii,
                                                         double temperature) {
  SC_CHECK(logits.dim() == 2 && logits.size(0) == static_cast<int64_t>(certificates.size()),
           "distro_certified_scores: ", certificates.size(), " certificates for logits ", logits.describe());
  SC_CHECK(temperature > 0, "distro_certified_scores: the temperature must be positive");
  const int64_t k = logits.size(1);
  const std::vector<float> z = logits.cpu().to_float_vector();
  std::vector<std::vector<double>> out(radii.size(), std::vector<double>(certificates.size(), 0.0));
  std::vector<double> row(static_cast<size_t>(k)), p(static_cast<size_t>(k));
  for (size_t i = 0; i < certificates.size(); ++i) {
    const Certificate& c = certificates[i];
    if (c.prediction < 0) continue;  // abstained: 0 at every radius
    SC_CHECK(c.prediction < k, "distro_certified_scores: class ", c.prediction, " of ", k);
    for (int64_t j = 0; j < k; ++j)
      row[static_cast<size_t>(j)] = z[i * static_cast<size_t>(k) + j] / temperature;
    softmax_row(row.data(), k, p.data());
    const double score = p[static_cast<size_t>(c.prediction)] + std::sqrt(2.0 / M_PI) * c.radius;
    for (size_t r = 0; r < radii.size(); ++r)
      if (radii[r] <= c.radius) out[r][i] = score;
  }
  return out;
}

}  // namespace sc::ood
