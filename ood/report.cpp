#include "ood/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <tuple>

#include "io/svg_plot.h"
#include "nn/error.h"
#include "ood/certified_confidence.h"

namespace sc::ood {

std::vector<SetMetrics> evaluate(const NamedScores& in, const std::vector<NamedScores>& outs) {
  std::vector<SetMetrics> rows;
  for (const NamedScores& o : outs)
    rows.push_back({o.name, static_cast<int64_t>(o.scores.size()), detection_metrics(in.scores, o.scores)});
  return rows;
}

std::string metrics_markdown(const std::vector<SetMetrics>& rows) {
  std::string md =
      "| OOD set | n | AUROC | cons. AUROC | AUPR-In | AUPR-Out | FPR95 |\n"
      "|---|---:|---:|---:|---:|---:|---:|\n";
  auto line = [&md](const std::string& name, const std::string& n, const DetectionMetrics& m) {
    char b[256];
    std::snprintf(b, sizeof b, "| %s | %s | %.2f | %.2f | %.2f | %.2f | %.2f |\n", name.c_str(), n.c_str(),
                  100 * m.auroc, 100 * m.auroc_conservative, 100 * m.aupr_in, 100 * m.aupr_out,
                  100 * m.fpr95);
    md += b;
  };
  DetectionMetrics mean;
  for (const SetMetrics& r : rows) {
    line(r.name, std::to_string(r.n), r.metrics);
    const auto k = static_cast<double>(rows.size());
    mean.auroc += r.metrics.auroc / k, mean.auroc_conservative += r.metrics.auroc_conservative / k;
    mean.aupr_in += r.metrics.aupr_in / k, mean.aupr_out += r.metrics.aupr_out / k;
    mean.fpr95 += r.metrics.fpr95 / k;
  }
  if (rows.size() > 1) line("Average", "", mean);
  return md;
}

namespace {
// The conservative AUROC and the FPR95 of the in-distribution scores against the OOD upper bounds raised to
// their bound within radius r.
DetectionMetrics certified_metrics(const NamedScores& in, const NamedScores& upper, double r, double sigma) {
  std::vector<double> raised;
  for (double u : upper.scores) raised.push_back(certified_upper(u, r, sigma));
  return detection_metrics(in.scores, raised);
}
}  // namespace

namespace {
// | OOD set | A r=… | B r=… |: two metrics (in [0, 1], shown ×100; NaN as "—") of each OOD set at each
// radius, `at(set, radius index)`, and their mean over the sets when there are several.
std::string radii_markdown(const std::vector<std::string>& sets, const std::vector<double>& radii,
                           const char* first, const char* second,
                           const std::function<std::pair<double, double>(size_t, size_t)>& at) {
  SC_CHECK(!radii.empty(), "radii_markdown: no radii");
  std::string md = "| OOD set |", rule = "|---|";
  char cell[64];
  for (const char* metric : {first, second})
    for (double r : radii) {
      std::snprintf(cell, sizeof cell, " %s r=%.3g |", metric, r);
      md += cell, rule += "---:|";
    }
  md += "\n" + rule + "\n";
  auto line = [&](const std::string& name, const std::vector<double>& v) {
    md += "| " + name + " |";
    for (double x : v) {
      if (std::isnan(x))
        std::snprintf(cell, sizeof cell, " — |");
      else
        std::snprintf(cell, sizeof cell, " %.2f |", 100 * x);
      md += cell;
    }
    md += "\n";
  };
  // Each set's first metric at every radius, then its second at every radius; their mean over the sets.
  const size_t k = radii.size();
  std::vector<double> mean(2 * k, 0.0);
  for (size_t s = 0; s < sets.size(); ++s) {
    std::vector<double> row(2 * k);
    for (size_t j = 0; j < k; ++j) std::tie(row[j], row[k + j]) = at(s, j);
    line(sets[s], row);
    for (size_t j = 0; j < 2 * k; ++j) mean[j] += row[j] / static_cast<double>(sets.size());
  }
  if (sets.size() > 1) line("Average", mean);
  return md;
}

std::vector<std::string> names_of(const std::vector<NamedScores>& sets) {
  std::vector<std::string> names;
  for (const NamedScores& s : sets) names.push_back(s.name);
  return names;
}
}  // namespace

std::string certified_markdown(const NamedScores& in, const std::vector<NamedScores>& out_upper,
                               const std::vector<double>& radii, double sigma) {
  return radii_markdown(names_of(out_upper), radii, "GAUROC", "GFPR95", [&](size_t s, size_t j) {
    const DetectionMetrics m = certified_metrics(in, out_upper[s], radii[j], sigma);
    return std::pair{m.auroc_conservative, m.fpr95};
  });
}

std::string radius_scores_markdown(const std::vector<std::vector<double>>& in,
                                   const std::vector<std::vector<NamedScores>>& outs,
                                   const std::vector<double>& radii) {
  SC_CHECK(in.size() == radii.size() && !outs.empty(), "radius_scores_markdown: scores for ", in.size(),
           " radii, ", radii.size(), " radii given");
  for (const auto& o : outs)
    SC_CHECK(o.size() == radii.size(), "radius_scores_markdown: an OOD set lacks radii");
  std::vector<std::string> names;
  for (const auto& o : outs) names.push_back(o[0].name);
  return radii_markdown(names, radii, "AUROC", "FPR95", [&](size_t s, size_t j) {
    const std::vector<double>&a = in[j], &b = outs[s][j].scores;
    const auto zero = [](const std::vector<double>& v) {
      return std::all_of(v.begin(), v.end(), [](double x) { return x == 0; });
    };
    if (zero(a) && zero(b)) return std::pair{std::nan(""), std::nan("")};  // nothing certified on either side
    const DetectionMetrics m = detection_metrics(a, b);
    return std::pair{m.auroc, m.fpr95};
  });
}

std::string certified_auroc_svg(const NamedScores& in, const std::vector<NamedScores>& out_upper,
                                double max_radius, double sigma) {
  SC_CHECK(max_radius > 0, "certified_auroc_svg: the largest radius must be positive");
  constexpr int kPoints = 60;
  std::vector<io::Series> series;
  for (const NamedScores& o : out_upper) {
    io::Series line{o.name, {}, {}};
    for (int i = 0; i <= kPoints; ++i) {
      const double r = max_radius * i / kPoints;
      line.x.push_back(r), line.y.push_back(certified_metrics(in, o, r, sigma).auroc_conservative);
    }
    series.push_back(std::move(line));
  }
  io::PlotSpec spec;
  spec.title = "certified AUROC (OOD confidence bounded within the l2 ball), in: " + in.name;
  spec.x_label = "l2 radius", spec.y_label = "GAUROC", spec.x_max = max_radius;
  return io::svg_line_plot(spec, series);
}

std::string roc_svg(const NamedScores& in, const std::vector<NamedScores>& outs, const std::string& title) {
  std::vector<io::Series> series;
  for (const NamedScores& o : outs) {
    const RocCurve c = roc_curve(in.scores, o.scores, 1e-3);
    series.push_back({o.name, c.fpr, c.tpr});
  }
  series.push_back({"chance", {0.0, 1.0}, {0.0, 1.0}});
  io::PlotSpec spec;
  spec.title = title, spec.x_label = "false positive rate (OOD accepted)";
  spec.y_label = "true positive rate (" + in.name + " accepted)";
  return io::svg_line_plot(spec, series);
}

std::string histogram_svg(const NamedScores& in, const std::vector<NamedScores>& outs,
                          const std::string& title, const std::string& score_label, int bins) {
  SC_CHECK(bins >= 1, "histogram_svg: bins must be positive");
  std::vector<const NamedScores*> sets = {&in};
  for (const NamedScores& o : outs) sets.push_back(&o);
  for (const NamedScores* s : sets) check_scores(s->scores, s->name);  // an empty set says so by name
  double lo = in.scores[0], hi = lo;
  for (const NamedScores* s : sets) {
    const auto [a, b] = std::minmax_element(s->scores.begin(), s->scores.end());
    lo = std::min(lo, *a), hi = std::max(hi, *b);
  }
  if (hi <= lo) hi = lo + 1;  // one value everywhere: a unit range around it
  const double width = (hi - lo) / bins;
  io::PlotSpec spec;
  spec.title = title, spec.x_label = score_label, spec.y_label = "fraction of the set";
  spec.x_min = lo, spec.x_max = hi, spec.y_max = 0, spec.step = true;
  std::vector<io::Series> series;
  for (const NamedScores* s : sets) {
    std::vector<double> frac(static_cast<size_t>(bins), 0.0);
    for (double v : s->scores) {
      const int b = std::min(bins - 1, static_cast<int>((v - lo) / width));  // the top value in the last bin
      frac[static_cast<size_t>(b)] += 1.0 / static_cast<double>(s->scores.size());
    }
    io::Series line{s->name, {}, frac};
    for (int b = 0; b <= bins; ++b) line.x.push_back(lo + b * width);
    line.y.push_back(frac.back());  // the step's last edge
    spec.y_max = std::max(spec.y_max, *std::max_element(frac.begin(), frac.end()));
    series.push_back(std::move(line));
  }
  spec.y_max *= 1.05;
  return io::svg_line_plot(spec, series);
}

}  // namespace sc::ood
