// The OOD evaluation's outputs: one metrics row per OOD set (ood/metrics.h) as a Markdown table in percent
// with an Average row, the ROC curves and the score histograms as SVG plots.
#pragma once
#include <string>
#include <vector>

#include "ood/metrics.h"

namespace sc::ood {

struct NamedScores {
  std::string name;
  std::vector<double> scores;
};

struct SetMetrics {
  std::string name;
  int64_t n = 0;
  DetectionMetrics metrics;
};

// The metrics of each OOD set against the in-distribution set.
std::vector<SetMetrics> evaluate(const NamedScores& in, const std::vector<NamedScores>& outs);

// | OOD set | n | AUROC | cons. AUROC | AUPR-In | AUPR-Out | FPR95 |, the metrics ×100, and an Average row
// (the plain mean over the sets) when there are several.
std::string metrics_markdown(const std::vector<SetMetrics>& rows);

// | OOD set | GAUROC r = … | GFPR95 r = … |: the in-distribution scores against each OOD set's confidence
// upper bounds raised to their certified bound within radius r (certified_upper, σ), for each radius; ties
// count against the detector (the conservative AUROC), and an Average row when there are several sets.
std::string certified_markdown(const NamedScores& in, const std::vector<NamedScores>& out_upper,
                               const std::vector<double>& radii, double sigma);

// | OOD set | AUROC r = … | FPR95 r = … |: scores that depend on the radius (DISTRO's certified score,
// ood/distro_certified.h), in[radius][image] against outs[set][radius] (each named by its set), plain AUROC;
// "—" where both sides are all zeros (nothing certified at that radius), and an Average row.
std::string radius_scores_markdown(const std::vector<std::vector<double>>& in,
                                   const std::vector<std::vector<NamedScores>>& outs,
                                   const std::vector<double>& radii);

// Each OOD set's GAUROC (as certified_markdown) over radii 0 … max_radius.
std::string certified_auroc_svg(const NamedScores& in, const std::vector<NamedScores>& out_upper,
                                double max_radius, double sigma);

// The ROC curve of each OOD set against the in-distribution set (TPR over FPR).
std::string roc_svg(const NamedScores& in, const std::vector<NamedScores>& outs, const std::string& title);

// The fraction of each set's scores in each of `bins` equal bins over the range of all scores, as steps.
std::string histogram_svg(const NamedScores& in, const std::vector<NamedScores>& outs,
                          const std::string& title, const std::string& score_label, int bins = 50);

}  // namespace sc::ood
