#include "ood/metrics.h"

#include <algorithm>
#include <cmath>

#include "nn/error.h"

namespace sc::ood {

void check_scores(const std::vector<double>& scores, const std::string& what) {
  SC_CHECK(!scores.empty(), what, ": no scores");
  for (size_t i = 0; i < scores.size(); ++i)
    SC_CHECK(std::isfinite(scores[i]), what, ": score ", i, " is ", scores[i], " (scores must be finite)");
}

namespace {

// One threshold: how many positives and negatives score exactly there.
struct Level {
  int64_t pos = 0, neg = 0;
};

// The distinct scores from high to low with their counts.
std::vector<Level> levels(const std::vector<double>& pos, const std::vector<double>& neg) {
  check_scores(pos, "the in-distribution set");
  check_scores(neg, "the out-of-distribution set");
  std::vector<std::pair<double, bool>> all;  // (score, is positive)
  all.reserve(pos.size() + neg.size());
  for (double s : pos) all.emplace_back(s, true);
  for (double s : neg) all.emplace_back(s, false);
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<Level> out;
  for (size_t i = 0; i < all.size(); ++i) {
    if (i == 0 || all[i].first != all[i - 1].first) out.emplace_back();
    (all[i].second ? out.back().pos : out.back().neg) += 1;
  }
  return out;
}

// Average precision of the positives (sklearn's average_precision_score) over the levels from high to low.
double average_precision(const std::vector<Level>& lv, int64_t n_pos) {
  double ap = 0;
  int64_t tp = 0, fp = 0;
  for (const Level& l : lv) {
    tp += l.pos, fp += l.neg;
    if (l.pos > 0)
      ap += static_cast<double>(l.pos) / n_pos * static_cast<double>(tp) / static_cast<double>(tp + fp);
  }
  return ap;
}

}  // namespace

DetectionMetrics detection_metrics(const std::vector<double>& in_scores,
                                   const std::vector<double>& out_scores) {
  const std::vector<Level> lv = levels(in_scores, out_scores);
  const auto n_in = static_cast<int64_t>(in_scores.size()), n_out = static_cast<int64_t>(out_scores.size());
  DetectionMetrics m;
  // Pairs (in, out) with the in-distribution score above, and tied: exact in 64 bits up to 3·10^9 per set.
  int64_t above = 0, tied = 0, tp = 0, fp = 0;
  bool fpr95_found = false;
  for (const Level& l : lv) {
    above += l.neg * tp;
    tied += l.neg * l.pos;
    tp += l.pos, fp += l.neg;
    if (!fpr95_found && 20 * tp >= 19 * n_in) {  // TPR ≥ 95%, compared exactly
      m.fpr95 = static_cast<double>(fp) / static_cast<double>(n_out);
      fpr95_found = true;
    }
  }
  const double pairs = static_cast<double>(n_in) * static_cast<double>(n_out);
  m.auroc = (static_cast<double>(above) + 0.5 * static_cast<double>(tied)) / pairs;
  m.auroc_conservative = static_cast<double>(above) / pairs;
  m.aupr_in = average_precision(lv, n_in);
  // OOD positive, scores negated: the same levels from low to high with the roles swapped.
  std::vector<Level> swapped(lv.rbegin(), lv.rend());
  for (Level& l : swapped) std::swap(l.pos, l.neg);
  m.aupr_out = average_precision(swapped, n_out);
  return m;
}

RocCurve roc_curve(const std::vector<double>& in_scores, const std::vector<double>& out_scores,
                   double resolution) {
  const std::vector<Level> lv = levels(in_scores, out_scores);
  const auto n_in = static_cast<double>(in_scores.size()), n_out = static_cast<double>(out_scores.size());
  RocCurve c{{0.0}, {0.0}};
  int64_t tp = 0, fp = 0;
  for (size_t k = 0; k < lv.size(); ++k) {
    tp += lv[k].pos, fp += lv[k].neg;
    const double x = static_cast<double>(fp) / n_out, y = static_cast<double>(tp) / n_in;
    const bool last = k + 1 == lv.size();
    if (last || std::fabs(x - c.fpr.back()) >= resolution || std::fabs(y - c.tpr.back()) >= resolution)
      c.fpr.push_back(x), c.tpr.push_back(y);
  }
  return c;
}

}  // namespace sc::ood
