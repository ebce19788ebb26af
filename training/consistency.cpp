#include "training/consistency.h"

#include <algorithm>
#include <cmath>

#include "nn/error.h"

namespace sc::training {

attacks::LogitsLoss consistency_loss(const std::vector<int64_t>& labels, int64_t m, double lambda, double eta,
                                     bool image_major) {
  SC_CHECK(m >= 1, "consistency_loss: m must be at least 1, got ", m);
  SC_CHECK(std::isfinite(lambda) && lambda >= 0 && std::isfinite(eta) && eta >= 0,
           "consistency_loss: λ and η must be finite and ≥ 0, got ", lambda, " and ", eta);
  return [labels, m, lambda, eta, image_major](const std::vector<double>& z, int64_t rows, int64_t classes,
                                               std::vector<double>& loss, std::vector<double>& dz) {
    const auto images = static_cast<int64_t>(labels.size());
    const auto row_of = [&](int64_t i, int64_t b) { return image_major ? b * m + i : i * images + b; };
    SC_CHECK(images * m == rows, "consistency_loss: ", images, " labels × ", m, " copies for ", rows,
             " rows");
    loss.assign(static_cast<size_t>(rows), 0.0);
    const double md = static_cast<double>(m), per_row = 1.0 / static_cast<double>(rows),
                 per_image = 1.0 / static_cast<double>(images);
    std::vector<double> log_s(static_cast<size_t>(m * classes)), mean(static_cast<size_t>(classes)),
        sum_log(static_cast<size_t>(classes)), a(static_cast<size_t>(classes));
    for (int64_t b = 0; b < images; ++b) {
      const int64_t y = labels[static_cast<size_t>(b)];
      SC_CHECK(y >= 0 && y < classes, "consistency_loss: label ", y, " is outside the model's ", classes,
               " classes");
      // log s_i (log-softmax of each copy), p̂ and Σ_i log s_i.
      std::fill(mean.begin(), mean.end(), 0.0);
      std::fill(sum_log.begin(), sum_log.end(), 0.0);
      for (int64_t i = 0; i < m; ++i) {
        const double* zr = z.data() + row_of(i, b) * classes;
        double* ls = log_s.data() + i * classes;
        const double top = *std::max_element(zr, zr + classes);
        double sum = 0;
        for (int64_t k = 0; k < classes; ++k) sum += std::exp(zr[k] - top);
        const double lse = top + std::log(sum);
        for (int64_t k = 0; k < classes; ++k) {
          ls[k] = zr[k] - lse;
          mean[static_cast<size_t>(k)] += std::exp(ls[k]) / md;
          sum_log[static_cast<size_t>(k)] += ls[k];
        }
      }
      // C = λ/m·Σ_i KL(p̂‖s_i) + η·H(p̂) = (λ − η)·Σ_k p̂_k log p̂_k − λ/m·Σ_k p̂_k Σ_i log s_ik, and
      // a = ∂C/∂p̂ = (λ − η)(log p̂ + 1) − λ/m·Σ_i log s_i.
      double c = 0;
      for (int64_t k = 0; k < classes; ++k) {
        const double p = mean[static_cast<size_t>(k)], log_p = std::log(std::max(p, 1e-300));
        c += (lambda - eta) * (p > 0 ? p * log_p : 0.0) - lambda / md * p * sum_log[static_cast<size_t>(k)];
        a[static_cast<size_t>(k)] =
            (lambda - eta) * (log_p + 1) - lambda / md * sum_log[static_cast<size_t>(k)];
      }
      // ∂C/∂z_ij = (1/m)·[s_ij (a_j − ⟨a, s_i⟩) − λ (p̂_j − s_ij)]; the cross-entropy's (s_i − e_y) per row.
      for (int64_t i = 0; i < m; ++i) {
        const int64_t row = row_of(i, b);
        const double* ls = log_s.data() + i * classes;
        double* d = dz.data() + row * classes;
        double a_dot_s = 0;
        for (int64_t k = 0; k < classes; ++k) a_dot_s += a[static_cast<size_t>(k)] * std::exp(ls[k]);
        for (int64_t j = 0; j < classes; ++j) {
          const double s = std::exp(ls[j]);
          const double dc =
              (s * (a[static_cast<size_t>(j)] - a_dot_s) - lambda * (mean[static_cast<size_t>(j)] - s)) / md;
          d[j] = per_row * (s - (j == y ? 1.0 : 0.0)) + per_image * dc;
        }
        loss[static_cast<size_t>(row)] = -ls[y] + c;
      }
    }
  };
}

}  // namespace sc::training
