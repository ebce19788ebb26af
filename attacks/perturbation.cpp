#include "attacks/perturbation.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace sc::attacks {

void random_start(const Ball& b, uint64_t seed, uint64_t image, int restart, float* delta, int64_t d) {
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                    static_cast<uint32_t>(image), static_cast<uint32_t>(image >> 32),
                    static_cast<uint32_t>(restart)};
  std::mt19937_64 rng(seq);
  if (b.norm == Norm::Linf) {
    std::uniform_real_distribution<double> u(-b.eps, b.eps);
    for (int64_t e = 0; e < d; ++e) delta[e] = static_cast<float>(u(rng));
    return;
  }
  std::normal_distribution<double> z;
  for (int64_t e = 0; e < d; ++e) delta[e] = static_cast<float>(z(rng));
  const double radius = b.eps * std::pow(std::uniform_real_distribution<double>(0, 1)(rng), 1.0 / d);
  const double norm = l2_norm(delta, d);
  for (int64_t e = 0; e < d; ++e) delta[e] = static_cast<float>(delta[e] * (radius / norm));
}

void ascent_step(const Ball& b, const float* g, double step, float* delta, int64_t d) {
  if (b.norm == Norm::Linf) {
    for (int64_t e = 0; e < d; ++e)
      delta[e] = static_cast<float>(delta[e] + step * ((g[e] > 0) - (g[e] < 0)));
    return;
  }
  const double norm = l2_norm(g, d);
  if (norm == 0) return;
  for (int64_t e = 0; e < d; ++e) delta[e] = static_cast<float>(delta[e] + step * g[e] / norm);
}

void project(const Ball& b, float* delta, int64_t d) {
  if (b.norm == Norm::Linf) {
    const auto eps = static_cast<float>(b.eps);
    for (int64_t e = 0; e < d; ++e) delta[e] = std::clamp(delta[e], -eps, eps);
    return;
  }
  const double norm = l2_norm(delta, d);
  if (norm <= b.eps) return;
  for (int64_t e = 0; e < d; ++e) delta[e] = static_cast<float>(delta[e] * (b.eps / norm));
}

void clip_to_box(const float* x, float* delta, int64_t d) {
  for (int64_t e = 0; e < d; ++e) delta[e] = std::clamp(x[e] + delta[e], 0.0f, 1.0f) - x[e];
}

Tensor perturbed_images(const std::vector<float>& clean, const std::vector<float>& delta, const Shape& shape,
                        Device device) {
  std::vector<float> v(clean.size());
  for (size_t e = 0; e < v.size(); ++e) v[e] = clean[e] + delta[e];
  return Tensor::from_vector(v, shape).to(device);
}

double l2_norm(const float* v, int64_t d) {
  double s = 0;
  for (int64_t e = 0; e < d; ++e) s += static_cast<double>(v[e]) * v[e];
  return std::sqrt(s);
}

double linf_norm(const float* v, int64_t d) {
  double m = 0;
  for (int64_t e = 0; e < d; ++e) m = std::max(m, std::fabs(static_cast<double>(v[e])));
  return m;
}

}  // namespace sc::attacks
