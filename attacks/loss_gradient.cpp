#include "attacks/loss_gradient.h"

#include <algorithm>
#include <cmath>

#include "nn/error.h"

namespace sc::attacks {

namespace {

// softmax of one row in double (shifted by the row's maximum).
void softmax_row(const double* z, int64_t k, double* s) {
  const double top = *std::max_element(z, z + k);
  double sum = 0;
  for (int64_t j = 0; j < k; ++j) sum += s[j] = std::exp(z[j] - top);
  for (int64_t j = 0; j < k; ++j) s[j] /= sum;
}

void check_label(int64_t label, int64_t classes) {
  SC_CHECK(label >= 0 && label < classes, "attack: label ", label, " is outside the model's ", classes,
           " classes (an unlabeled dataset cannot be attacked)");
}

}  // namespace

LossGradient loss_gradient(Classifier& model, const Tensor& x, const LogitsLoss& loss, bool with_gradient) {
  Tensor logits;
  if (with_gradient) {
    RecordForBackward record;
    logits = model.forward(x);
  } else {
    logits = model.forward(x);
  }
  const int64_t rows = logits.size(0), classes = logits.size(1);
  const std::vector<float> z32 = logits.cpu().to_float_vector();
  SC_CHECK(std::all_of(z32.begin(), z32.end(), [](float v) { return std::isfinite(v); }),
           "the model gave non-finite logits (weights that overflow, or training that diverged)");
  const std::vector<double> z(z32.begin(), z32.end());
  LossGradient out;
  std::vector<double> dz(z.size(), 0.0);
  loss(z, rows, classes, out.loss, dz);
  out.predictions.resize(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = z32.data() + r * classes;
    out.predictions[static_cast<size_t>(r)] =
        std::max_element(row, row + classes) - row;  // lowest index on ties
  }
  if (!with_gradient) return out;
  const std::vector<float> dz32(dz.begin(), dz.end());
  out.grad = model.backward(Tensor::from_vector(dz32, {rows, classes}).to(logits.device()));
  return out;
}

LogitsLoss cross_entropy(const std::vector<int64_t>& labels) {
  return [labels](const std::vector<double>& z, int64_t rows, int64_t classes, std::vector<double>& loss,
                  std::vector<double>& dz) {
    SC_CHECK(static_cast<int64_t>(labels.size()) == rows, "cross_entropy: ", labels.size(), " labels for ",
             rows, " rows");
    loss.assign(static_cast<size_t>(rows), 0.0);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t y = labels[static_cast<size_t>(r)];
      check_label(y, classes);
      double* d = dz.data() + r * classes;
      softmax_row(z.data() + r * classes, classes, d);
      loss[static_cast<size_t>(r)] = -std::log(std::max(d[y], 1e-300));
      d[y] -= 1.0;
    }
  };
}

LogitsLoss dlr(const std::vector<int64_t>& labels) {
  return [labels](const std::vector<double>& z, int64_t rows, int64_t classes, std::vector<double>& loss,
                  std::vector<double>& dz) {
    SC_CHECK(static_cast<int64_t>(labels.size()) == rows, "dlr: ", labels.size(), " labels for ", rows,
             " rows");
    SC_CHECK(classes >= 3, "dlr: the DLR loss needs at least 3 classes, the model has ", classes);
    loss.assign(static_cast<size_t>(rows), 0.0);
    std::vector<int64_t> order(static_cast<size_t>(classes));
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t y = labels[static_cast<size_t>(r)];
      check_label(y, classes);
      const double* zr = z.data() + r * classes;
      double* d = dz.data() + r * classes;
      std::fill(d, d + classes, 0.0);
      for (int64_t k = 0; k < classes; ++k) order[static_cast<size_t>(k)] = k;
      std::partial_sort(order.begin(), order.begin() + 3, order.end(),
                        [&](int64_t a, int64_t b) { return zr[a] > zr[b] || (zr[a] == zr[b] && a < b); });
      const int64_t other = order[0] != y ? order[0] : order[1];  // the largest logit but y's
      const double numerator = zr[y] - zr[other], denominator = zr[order[0]] - zr[order[2]] + 1e-12;
      loss[static_cast<size_t>(r)] = -numerator / denominator;
      // ∂(−N/D) = −∂N/D + N·∂D/D², with ∂N = e_y − e_other and ∂D = e_π1 − e_π3.
      d[y] -= 1.0 / denominator;
      d[other] += 1.0 / denominator;
      d[order[0]] += numerator / (denominator * denominator);
      d[order[2]] -= numerator / (denominator * denominator);
    }
  };
}

LogitsLoss smoothed_soft_cross_entropy(const std::vector<int64_t>& labels, int64_t m) {
  SC_CHECK(m > 0, "smoothed_soft_cross_entropy: m must be positive, got ", m);
  return [labels, m](const std::vector<double>& z, int64_t rows, int64_t classes, std::vector<double>& loss,
                     std::vector<double>& dz) {
    const int64_t groups = static_cast<int64_t>(labels.size());
    SC_CHECK(groups * m == rows, "smoothed_soft_cross_entropy: ", groups, " labels × ", m, " copies for ",
             rows, " rows");
    loss.assign(static_cast<size_t>(groups), 0.0);
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t y = labels[static_cast<size_t>(g)];
      check_label(y, classes);
      double p_bar = 0;
      for (int64_t i = 0; i < m; ++i) {
        double* s = dz.data() + (g * m + i) * classes;
        softmax_row(z.data() + (g * m + i) * classes, classes, s);
        p_bar += s[y] / static_cast<double>(m);
      }
      p_bar = std::max(p_bar, 1e-300);
      loss[static_cast<size_t>(g)] = -std::log(p_bar);
      for (int64_t i = 0; i < m; ++i) {
        double* s = dz.data() + (g * m + i) * classes;  // holds s_i; becomes −s_i,y (onehot(y) − s_i) / (m p̄)
        const double c = s[y] / (static_cast<double>(m) * p_bar);
        for (int64_t j = 0; j < classes; ++j) s[j] = c * s[j];
        s[y] -= c;
      }
    }
  };
}

}  // namespace sc::attacks
