#include "attacks/loss_gradient.h"

#include <algorithm>
#include <cmath>

#include "nn/error.h"
#include "nn/log_math.h"

namespace sc::attacks {

namespace {

void check_label(int64_t label, int64_t classes) {
  SC_CHECK(label >= 0 && label < classes, "attack: label ", label, " is outside the model's ", classes,
           " classes (an unlabeled dataset cannot be attacked)");
}

// The first k entries of `order` become the indices of the k largest logits of row z, in decreasing order
// (the lower index first on ties, as argmax).
void top_logits(const double* z, int64_t classes, int64_t k, std::vector<int64_t>& order) {
  order.resize(static_cast<size_t>(classes));
  for (int64_t j = 0; j < classes; ++j) order[static_cast<size_t>(j)] = j;
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int64_t a, int64_t b) { return z[a] > z[b] || (z[a] == z[b] && a < b); });
}

// What the per-row losses share: the labels checked against the rows and the classes against what the loss
// needs; then, for each row r with dz's row zeroed, loss[r] = row_loss(z's row, y, r, dz's row), which also
// writes the row's gradient.
template <class RowLoss>
void each_row(const char* name, const std::vector<int64_t>& labels, int64_t min_classes,
              const std::vector<double>& z, int64_t rows, int64_t classes, std::vector<double>& loss,
              std::vector<double>& dz, RowLoss row_loss) {
  SC_CHECK(static_cast<int64_t>(labels.size()) == rows, name, ": ", labels.size(), " labels for ", rows,
           " rows");
  SC_CHECK(classes >= min_classes, name, ": the loss needs at least ", min_classes,
           " classes, the model has ", classes);
  loss.assign(static_cast<size_t>(rows), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t y = labels[static_cast<size_t>(r)];
    check_label(y, classes);
    double* d = dz.data() + r * classes;
    std::fill(d, d + classes, 0.0);
    loss[static_cast<size_t>(r)] = row_loss(z.data() + r * classes, y, r, d);
  }
}

// The largest logit of row z but y's.
int64_t best_other(const double* z, int64_t classes, int64_t y) {
  int64_t other = y == 0 ? 1 : 0;
  for (int64_t j = 0; j < classes; ++j)
    if (j != y && z[j] > z[other]) other = j;
  return other;
}

}  // namespace

LogitsAt::LogitsAt(Classifier& model, const Tensor& x, bool record) : model_(model), recorded_(record) {
  if (record) {
    RecordForBackward recording;
    logits_ = model.forward(x);
  } else {
    logits_ = model.forward(x);
  }
  z32_ = logits_.cpu().to_float_vector();
  SC_CHECK(std::all_of(z32_.begin(), z32_.end(), [](float v) { return std::isfinite(v); }),
           "the model gave non-finite logits (weights that overflow, or training that diverged)");
}

LossGradient LogitsAt::evaluate(const LogitsLoss& loss, bool with_gradient) const {
  SC_CHECK(recorded_ || !with_gradient, "LogitsAt: a gradient needs the forward pass recorded");
  const int64_t rows = logits_.size(0), classes = logits_.size(1);
  const std::vector<double> z(z32_.begin(), z32_.end());
  LossGradient out;
  std::vector<double> dz(z.size(), 0.0);
  loss(z, rows, classes, out.loss, dz);
  out.predictions.resize(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = z32_.data() + r * classes;
    out.predictions[static_cast<size_t>(r)] =
        std::max_element(row, row + classes) - row;  // lowest index on ties
  }
  if (!with_gradient) return out;
  const std::vector<float> dz32(dz.begin(), dz.end());
  out.grad = model_.backward(Tensor::from_vector(dz32, {rows, classes}).to(logits_.device()));
  return out;
}

LossGradient loss_gradient(Classifier& model, const Tensor& x, const LogitsLoss& loss, bool with_gradient) {
  return LogitsAt(model, x, with_gradient).evaluate(loss, with_gradient);
}

LossGradient eot_loss_gradient(Classifier& model, const Tensor& x, const LogitsLoss& loss, int draws,
                               bool with_gradient) {
  SC_CHECK(draws >= 1, "eot_loss_gradient: draws must be at least 1, got ", draws);
  if (draws == 1) return loss_gradient(model, x, loss, with_gradient);
  std::vector<double> loss_sum, grad_sum;
  LossGradient last;
  for (int k = 0; k < draws; ++k) {
    last = loss_gradient(model, x, loss, with_gradient);
    loss_sum.resize(last.loss.size(), 0.0);
    for (size_t i = 0; i < last.loss.size(); ++i) loss_sum[i] += last.loss[i];
    if (!with_gradient) continue;
    const std::vector<float> g = last.grad.cpu().to_float_vector();
    grad_sum.resize(g.size(), 0.0);
    for (size_t e = 0; e < g.size(); ++e) grad_sum[e] += g[e];
  }
  for (double& v : loss_sum) v /= draws;
  last.loss = loss_sum;
  if (with_gradient) {
    std::vector<float> mean(grad_sum.size());
    for (size_t e = 0; e < grad_sum.size(); ++e) mean[e] = static_cast<float>(grad_sum[e] / draws);
    last.grad = Tensor::from_vector(mean, x.shape()).to(x.device());
  }
  return last;
}

LogitsLoss cross_entropy(const std::vector<int64_t>& labels) {
  return [labels](const std::vector<double>& z, int64_t rows, int64_t classes, std::vector<double>& loss,
                  std::vector<double>& dz) {
    each_row("cross_entropy", labels, 1, z, rows, classes, loss, dz,
             [&](const double* zr, int64_t y, int64_t, double* d) {
               softmax_row(zr, classes, d);
               const double value = -std::log(std::max(d[y], 1e-300));
               d[y] -= 1.0;
               return value;
             });
  };
}

LogitsLoss dlr(const std::vector<int64_t>& labels) {
  return [labels](const std::vector<double>& z, int64_t rows, int64_t classes, std::vector<double>& loss,
                  std::vector<double>& dz) {
    std::vector<int64_t> order;
    each_row("dlr", labels, 3, z, rows, classes, loss, dz,
             [&](const double* zr, int64_t y, int64_t, double* d) {
               top_logits(zr, classes, 3, order);
               const int64_t other = order[0] != y ? order[0] : order[1];  // the largest logit but y's
               const double numerator = zr[y] - zr[other], denominator = zr[order[0]] - zr[order[2]] + 1e-12;
               // ∂(−N/D) = −∂N/D + N·∂D/D², with ∂N = e_y − e_other and ∂D = e_π1 − e_π3.
               d[y] -= 1.0 / denominator;
               d[other] += 1.0 / denominator;
               d[order[0]] += numerator / (denominator * denominator);
               d[order[2]] -= numerator / (denominator * denominator);
               return -numerator / denominator;
             });
  };
}

LogitsLoss dlr_targeted(const std::vector<int64_t>& labels, const std::vector<int64_t>& targets) {
  return [labels, targets](const std::vector<double>& z, int64_t rows, int64_t classes,
                           std::vector<double>& loss, std::vector<double>& dz) {
    SC_CHECK(static_cast<int64_t>(targets.size()) == rows, "dlr_targeted: ", targets.size(), " targets for ",
             rows, " rows");
    std::vector<int64_t> order;
    each_row("dlr_targeted", labels, 4, z, rows, classes, loss, dz,
             [&](const double* zr, int64_t y, int64_t r, double* d) {
               const int64_t t = targets[static_cast<size_t>(r)];
               check_label(t, classes);
               top_logits(zr, classes, 4, order);
               const double numerator = zr[y] - zr[t],
                            denominator = zr[order[0]] - 0.5 * (zr[order[2]] + zr[order[3]]) + 1e-12;
               // ∂(−N/D) = −∂N/D + N·∂D/D², with ∂N = e_y − e_t and ∂D = e_π1 − (e_π3 + e_π4)/2.
               const double q = numerator / (denominator * denominator);
               d[y] -= 1.0 / denominator;
               d[t] += 1.0 / denominator;
               d[order[0]] += q;
               d[order[2]] -= 0.5 * q;
               d[order[3]] -= 0.5 * q;
               return -numerator / denominator;
             });
  };
}

LogitsLoss logit_gap(const std::vector<int64_t>& labels, const std::vector<int64_t>& targets) {
  return [labels, targets](const std::vector<double>& z, int64_t rows, int64_t classes,
                           std::vector<double>& loss, std::vector<double>& dz) {
    SC_CHECK(static_cast<int64_t>(targets.size()) == rows, "logit_gap: ", targets.size(), " targets for ", rows,
             " rows");
    each_row("logit_gap", labels, 2, z, rows, classes, loss, dz,
             [&](const double* zr, int64_t y, int64_t r, double* d) {
               const int64_t t = targets[static_cast<size_t>(r)];
               check_label(t, classes);
               d[t] += 1.0, d[y] -= 1.0;
               return zr[t] - zr[y];
             });
  };
}

std::vector<std::vector<int64_t>> classes_by_logit(const Tensor& logits) {
  SC_CHECK(logits.dim() == 2, "classes_by_logit: logits must be [rows, classes], got ", logits.describe());
  const int64_t rows = logits.size(0), classes = logits.size(1);
  const std::vector<float> z = logits.cpu().to_float_vector();
  std::vector<std::vector<int64_t>> order(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    const std::vector<double> zr(z.begin() + r * classes, z.begin() + (r + 1) * classes);
    top_logits(zr.data(), classes, classes, order[static_cast<size_t>(r)]);
  }
  return order;
}

LogitsLoss margin(const std::vector<int64_t>& labels) {
  return [labels](const std::vector<double>& z, int64_t rows, int64_t classes, std::vector<double>& loss,
                  std::vector<double>& dz) {
    each_row("margin", labels, 2, z, rows, classes, loss, dz,
             [&](const double* zr, int64_t y, int64_t, double* d) {
               const int64_t other = best_other(zr, classes, y);
               d[y] = 1.0, d[other] = -1.0;
               return zr[y] - zr[other];
             });
  };
}

LogitsLoss mean_cross_entropy(const std::vector<int64_t>& labels, int64_t m) {
  SC_CHECK(m > 0, "mean_cross_entropy: m must be positive, got ", m);
  return [labels, m](const std::vector<double>& z, int64_t rows, int64_t classes, std::vector<double>& loss,
                     std::vector<double>& dz) {
    const int64_t groups = static_cast<int64_t>(labels.size());
    SC_CHECK(groups * m == rows, "mean_cross_entropy: ", groups, " labels × ", m, " copies for ", rows,
             " rows");
    std::vector<int64_t> each;  // every copy's label
    for (int64_t y : labels) each.insert(each.end(), static_cast<size_t>(m), y);
    std::vector<double> per_copy;
    cross_entropy(each)(z, rows, classes, per_copy, dz);
    for (double& d : dz) d /= static_cast<double>(m);
    loss.assign(static_cast<size_t>(groups), 0.0);
    for (int64_t r = 0; r < rows; ++r)
      loss[static_cast<size_t>(r / m)] += per_copy[static_cast<size_t>(r)] / m;
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
