// How well a score separates in-distribution inputs (the positive class) from out-of-distribution ones, with
// higher scores meaning "more in-distribution". Thresholds run over the distinct scores, so ties are one
// threshold:
//   TPR(t) = #{in ≥ t} / n_in,  FPR(t) = #{out ≥ t} / n_out
//   AUROC              P(s_in > s_out) + ½·P(s_in = s_out): the trapezoids under the ROC curve (sklearn's
//                      roc_auc_score)
//   conservative AUROC P(s_in > s_out): ties count against the detector (ProoD's)
//   AUPR-In            average precision with in-distribution positive: Σ_k (R_k − R_{k−1})·P_k over the
//                      thresholds from high to low (sklearn's average_precision_score)
//   AUPR-Out           the same with the OOD inputs positive and the scores negated
//   FPR95              FPR at the highest threshold whose TPR is at least 95% (sklearn's roc_curve without
//                      dropped points, fpr[argmax(tpr ≥ 0.95)])
// Counts are exact integers; every score must be finite.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sc::ood {

struct DetectionMetrics {
  double auroc = 0, auroc_conservative = 0, aupr_in = 0, aupr_out = 0, fpr95 = 0;
};

DetectionMetrics detection_metrics(const std::vector<double>& in_scores,
                                   const std::vector<double>& out_scores);

// The ROC curve's points (FPR, TPR), from (0, 0) through each distinct threshold, high to low, to (1, 1);
// thinned for plotting to the points that move at least `resolution` on either axis from the last one kept
// (the last point always stays; 0 keeps every point).
struct RocCurve {
  std::vector<double> fpr, tpr;
};
RocCurve roc_curve(const std::vector<double>& in_scores, const std::vector<double>& out_scores,
                   double resolution = 0.0);

// Throws unless every score is finite and the set is not empty; `what` names the set in the message.
void check_scores(const std::vector<double>& scores, const std::string& what);

}  // namespace sc::ood
