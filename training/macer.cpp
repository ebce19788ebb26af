#include "training/macer.h"

#include <algorithm>
#include <cmath>

#include "nn/error.h"
#include "nn/log_math.h"
#include "smoothing/statistics.h"

namespace sc::training {

namespace {

// Adds to each copy's row of dz the gradient through the mean of softmaxes p̄ = (1/m) Σ_i softmax(scale·z_i):
// with a = ∂L/∂p̄ and s_i = softmax(scale·z_i), ∂L/∂z_ij = (scale/m)·s_ij·(a_j − ⟨a, s_i⟩), times `weight`.
void add_mean_softmax_gradient(const std::vector<double>& s, const std::vector<double>& a, int64_t m,
                               int64_t classes, double scale, double weight,
                               const std::vector<double*>& rows) {
  for (int64_t i = 0; i < m; ++i) {
    const double* si = s.data() + i * classes;
    double a_dot_s = 0;
    for (int64_t k = 0; k < classes; ++k) a_dot_s += a[static_cast<size_t>(k)] * si[k];
    for (int64_t j = 0; j < classes; ++j)
      rows[static_cast<size_t>(i)][j] +=
          weight * scale / static_cast<double>(m) * si[j] * (a[static_cast<size_t>(j)] - a_dot_s);
  }
}

// The m copies' softmaxes of scale·z (one row each, copy-major) and their mean.
void mean_softmax(const std::vector<double>& z, int64_t images, int64_t b, int64_t m, int64_t classes,
                  double scale, std::vector<double>& s, std::vector<double>& mean) {
  std::vector<double> scaled(static_cast<size_t>(classes));
  std::fill(mean.begin(), mean.end(), 0.0);
  for (int64_t i = 0; i < m; ++i) {
    const double* zr = z.data() + (i * images + b) * classes;
    for (int64_t k = 0; k < classes; ++k) scaled[static_cast<size_t>(k)] = scale * zr[k];
    double* si = s.data() + i * classes;
    softmax_row(scaled.data(), classes, si);
    for (int64_t k = 0; k < classes; ++k) mean[static_cast<size_t>(k)] += si[k] / static_cast<double>(m);
  }
}

// dΦ⁻¹(p)/dp = 1/φ(Φ⁻¹(p)).
double normal_ppf_slope(double u) {
  return std::sqrt(2 * M_PI) * std::exp(0.5 * u * u);
}

}  // namespace

attacks::LogitsLoss macer_loss(const std::vector<int64_t>& labels, int64_t m, const MacerParams& p) {
  SC_CHECK(m >= 1, "macer_loss: m must be at least 1, got ", m);
  SC_CHECK(std::isfinite(p.sigma) && p.sigma > 0 && std::isfinite(p.lambda) && p.lambda >= 0 &&
               std::isfinite(p.gamma) && p.gamma > 0 && std::isfinite(p.beta) && p.beta > 0,
           "macer_loss: σ, γ and β must be finite and positive and λ finite and ≥ 0, got σ = ", p.sigma,
           ", λ = ", p.lambda, ", γ = ", p.gamma, ", β = ", p.beta);
  return [labels, m, p](const std::vector<double>& z, int64_t rows, int64_t classes,
                        std::vector<double>& loss, std::vector<double>& dz) {
    const auto images = static_cast<int64_t>(labels.size());
    SC_CHECK(images * m == rows, "macer_loss: ", images, " labels × ", m, " copies for ", rows, " rows");
    SC_CHECK(classes >= 2, "macer_loss: the radius term needs at least 2 classes, got ", classes);
    loss.assign(static_cast<size_t>(rows), 0.0);
    std::fill(dz.begin(), dz.end(), 0.0);
    const double per_image = 1.0 / static_cast<double>(images);
    std::vector<double> s(static_cast<size_t>(m * classes)), mean(static_cast<size_t>(classes)),
        a(static_cast<size_t>(classes));
    std::vector<double*> image_rows(static_cast<size_t>(m));
    for (int64_t b = 0; b < images; ++b) {
      const int64_t y = labels[static_cast<size_t>(b)];
      SC_CHECK(y >= 0 && y < classes, "macer_loss: label ", y, " is outside the model's ", classes,
               " classes");
      for (int64_t i = 0; i < m; ++i)
        image_rows[static_cast<size_t>(i)] = dz.data() + (i * images + b) * classes;
      // The smoothed soft classifier's cross-entropy, with the reference's 1e-10 inside the logarithm.
      mean_softmax(z, images, b, m, classes, 1.0, s, mean);
      const double p_y = mean[static_cast<size_t>(y)] + 1e-10;
      double term = -std::log(p_y);
      std::fill(a.begin(), a.end(), 0.0);
      a[static_cast<size_t>(y)] = -1 / p_y;
      add_mean_softmax_gradient(s, a, m, classes, 1.0, per_image, image_rows);
      // The radius term on q̄, the mean of the β-sharpened softmaxes.
      mean_softmax(z, images, b, m, classes, p.beta, s, mean);
      int64_t c0 = 0, c1 = -1;  // the two largest (the lower index first on ties)
      for (int64_t k = 1; k < classes; ++k)
        if (mean[static_cast<size_t>(k)] > mean[static_cast<size_t>(c0)]) c0 = k;
      for (int64_t k = 0; k < classes; ++k)
        if (k != c0 && (c1 < 0 || mean[static_cast<size_t>(k)] > mean[static_cast<size_t>(c1)])) c1 = k;
      if (c0 == y) {
        const double u0 = stats::normal_ppf(std::min(mean[static_cast<size_t>(c0)], 1.0)),
                     u1 = stats::normal_ppf(std::min(mean[static_cast<size_t>(c1)], 1.0));
        if (std::isfinite(u0) && std::isfinite(u1) && u0 - u1 <= p.gamma) {
          term += p.lambda * p.sigma / 2 * (p.gamma - (u0 - u1));
          std::fill(a.begin(), a.end(), 0.0);
          a[static_cast<size_t>(c0)] = -p.lambda * p.sigma / 2 * normal_ppf_slope(u0);
          a[static_cast<size_t>(c1)] = p.lambda * p.sigma / 2 * normal_ppf_slope(u1);
          add_mean_softmax_gradient(s, a, m, classes, p.beta, per_image, image_rows);
        }
      }
      for (int64_t i = 0; i < m; ++i) loss[static_cast<size_t>(i * images + b)] = term;
    }
  };
}

}  // namespace sc::training
