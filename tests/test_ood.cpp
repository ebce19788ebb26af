// Out-of-distribution detection: the metrics against scikit-learn (fixtures from make_ood_fixtures.py) and
// against their definitions counted pair by pair and threshold by threshold, the scores against long-double
// sums, and the report's table and plots.
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "io/npy.h"
#include "ood/distro_certified.h"
#include "ood/metrics.h"
#include "ood/report.h"
#include "ood/score_bounds.h"
#include "ood/scores.h"
#include "test_util.h"

namespace sc::test {
namespace {

using ood::DetectionMetrics;

// The score bounds over a box of logits: at least the score of every logit vector in the box (random points
// and corners), and the score itself when the box is a point.
TEST(ScoreBounds, HoldInTheBoxAndAreTheScoreAtAPoint) {
  std::mt19937_64 rng(31);
  std::normal_distribution<float> g(0, 3);
  std::uniform_real_distribution<float> width(0, 2);
  const int64_t n = 9, k = 7;
  std::vector<float> lo(n * k), hi(n * k);
  for (int64_t i = 0; i < n * k; ++i) lo[i] = g(rng), hi[i] = lo[i] + width(rng);
  const Tensor lower = Tensor::from_vector(lo, {n, k}), upper = Tensor::from_vector(hi, {n, k});
  for (ood::Score s : ood::all_scores()) {
    SCOPED_TRACE(ood::score_name(s));
    const std::vector<double> bound = ood::score_upper_bounds(lower, upper, s, 1.5);
    for (int trial = 0; trial < 200; ++trial) {
      std::vector<float> z(n * k);
      for (int64_t i = 0; i < n * k; ++i)
        z[i] = trial % 2 ? lo[i] + (hi[i] - lo[i]) * std::uniform_real_distribution<float>(0, 1)(rng)
                         : (rng() % 2 ? lo[i] : hi[i]);
      const std::vector<double> score = ood::scores(Tensor::from_vector(z, {n, k}), s, 1.5);
      for (int64_t i = 0; i < n; ++i) ASSERT_LE(score[i], bound[i] + 1e-12) << "row " << i;
    }
    const std::vector<double> at_point = ood::score_upper_bounds(lower, lower, s, 1.5);
    const std::vector<double> score = ood::scores(lower, s, 1.5);
    for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(at_point[i], score[i], 1e-12 * (1 + std::fabs(score[i])));
  }
  EXPECT_ERROR_MENTIONS(ood::score_upper_bounds(upper, lower, ood::Score::MaxLogit), "has bounds");
  // An overflowed propagation (nn/interval.h) guarantees nothing.
  std::vector<float> broken = hi;
  broken[3] = INFINITY, broken[k + 1] = NAN;
  const Tensor open = Tensor::from_vector(broken, {n, k});
  EXPECT_EQ(ood::score_upper_bounds(lower, open, ood::Score::MaxSoftmax)[0], 1.0);
  EXPECT_EQ(ood::score_upper_bounds(lower, open, ood::Score::Energy)[1], std::numeric_limits<double>::max());
  EXPECT_LT(ood::score_upper_bounds(lower, open, ood::Score::MaxLogit)[2], 1e30);
}

TEST(OodMetrics, MatchScikitLearn) {
  Shape cs, es;
  const std::vector<double> cases = io::read_npy_f64(fixture_dir() + "/ood/cases.npy", &cs);
  const std::vector<double> expected = io::read_npy_f64(fixture_dir() + "/ood/expected.npy", &es);
  ASSERT_EQ(cs.size(), 2u);
  ASSERT_EQ(cs[1], 3);
  ASSERT_EQ(es[1], 7);
  ASSERT_GE(es[0], 16);
  for (int64_t c = 0; c < es[0]; ++c) {
    const double* e = expected.data() + 7 * c;
    std::vector<double> in, out;
    for (int64_t r = 0; r < cs[0]; ++r)
      if (cases[3 * r] == e[0]) (cases[3 * r + 1] == 1.0 ? in : out).push_back(cases[3 * r + 2]);
    ASSERT_EQ(static_cast<double>(in.size()), e[1]) << "case " << c;
    ASSERT_EQ(static_cast<double>(out.size()), e[2]) << "case " << c;
    const DetectionMetrics m = ood::detection_metrics(in, out);
    EXPECT_NEAR(m.auroc, e[3], 1e-12) << "AUROC, case " << c;
    EXPECT_NEAR(m.aupr_in, e[4], 1e-12) << "AUPR-In, case " << c;
    EXPECT_NEAR(m.aupr_out, e[5], 1e-12) << "AUPR-Out, case " << c;
    EXPECT_EQ(m.fpr95, e[6]) << "FPR95, case " << c;  // a ratio of counts: exact
  }
}

// The definitions, written out the slow way: every (in, out) pair, and every distinct score as a threshold.
DetectionMetrics by_definition(const std::vector<double>& in, const std::vector<double>& out) {
  long double above = 0, tied = 0;
  for (double a : in)
    for (double b : out) above += a > b, tied += a == b;
  const long double pairs = static_cast<long double>(in.size()) * out.size();
  DetectionMetrics m;
  m.auroc = static_cast<double>((above + tied / 2) / pairs);
  m.auroc_conservative = static_cast<double>(above / pairs);
  std::vector<double> thresholds(in);
  thresholds.insert(thresholds.end(), out.begin(), out.end());
  std::sort(thresholds.rbegin(), thresholds.rend());
  thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
  auto at_or_above = [](const std::vector<double>& v, double t) {
    return static_cast<long double>(std::count_if(v.begin(), v.end(), [t](double s) { return s >= t; }));
  };
  auto below_or_at = [](const std::vector<double>& v, double t) {
    return static_cast<long double>(std::count_if(v.begin(), v.end(), [t](double s) { return s <= t; }));
  };
  long double ap_in = 0, ap_out = 0, recall_in = 0;
  bool found = false;
  for (double t : thresholds) {  // high to low: in-distribution positive
    const long double tp = at_or_above(in, t), fp = at_or_above(out, t), recall = tp / in.size();
    ap_in += (recall - recall_in) * tp / (tp + fp);
    recall_in = recall;
    if (!found && recall >= 0.95L) m.fpr95 = static_cast<double>(fp / out.size()), found = true;
  }
  long double recall_out = 0;
  for (auto t = thresholds.rbegin(); t != thresholds.rend(); ++t) {  // low to high: OOD positive
    const long double tp = below_or_at(out, *t), fp = below_or_at(in, *t), recall = tp / out.size();
    ap_out += (recall - recall_out) * tp / (tp + fp);
    recall_out = recall;
  }
  m.aupr_in = static_cast<double>(ap_in), m.aupr_out = static_cast<double>(ap_out);
  return m;
}

TEST(OodMetrics, MatchTheirDefinitionsWithTiesAndOddSizes) {
  std::mt19937_64 rng(3);
  for (auto [n_in, n_out] : {std::pair{1, 1}, {1, 9}, {7, 1}, {17, 33}, {101, 64}, {400, 257}}) {
    for (int levels : {3, 40, 0}) {  // heavy ties, some ties, continuous
      auto draw = [&](int n, double shift) {
        std::normal_distribution<double> normal(shift, 1.0);
        std::vector<double> v;
        for (int i = 0; i < n; ++i) v.push_back(levels ? std::round(normal(rng) * levels / 4) : normal(rng));
        return v;
      };
      const std::vector<double> in = draw(n_in, 0.7), out = draw(n_out, 0.0);
      const DetectionMetrics m = ood::detection_metrics(in, out), d = by_definition(in, out);
      const std::string what =
          std::to_string(n_in) + " in, " + std::to_string(n_out) + " out, levels " + std::to_string(levels);
      EXPECT_NEAR(m.auroc, d.auroc, 1e-14) << what;
      EXPECT_NEAR(m.auroc_conservative, d.auroc_conservative, 1e-14) << what;
      EXPECT_NEAR(m.aupr_in, d.aupr_in, 1e-13) << what;
      EXPECT_NEAR(m.aupr_out, d.aupr_out, 1e-13) << what;
      EXPECT_EQ(m.fpr95, d.fpr95) << what;
    }
  }
}

TEST(OodMetrics, ClosedFormsAndTies) {
  DetectionMetrics m = ood::detection_metrics({5, 6, 7}, {1, 2});  // separated
  EXPECT_EQ(m.auroc, 1.0);
  EXPECT_EQ(m.auroc_conservative, 1.0);
  EXPECT_EQ(m.aupr_in, 1.0);
  EXPECT_EQ(m.aupr_out, 1.0);
  EXPECT_EQ(m.fpr95, 0.0);
  m = ood::detection_metrics({1, 2}, {5, 6, 7});  // reversed: every OOD input accepted before any in
  EXPECT_EQ(m.auroc, 0.0);
  EXPECT_EQ(m.fpr95, 1.0);
  m = ood::detection_metrics({3, 3, 3, 3}, {3, 3});  // one value: ties are half right, or all wrong
  EXPECT_EQ(m.auroc, 0.5);
  EXPECT_EQ(m.auroc_conservative, 0.0);
  EXPECT_DOUBLE_EQ(m.aupr_in, 4.0 / 6.0);  // the positives' share
  EXPECT_EQ(m.fpr95, 1.0);
  // TPR reaches exactly 95% (19 of 20) at the threshold 1: one of the four OOD inputs is at or above it.
  std::vector<double> in(19, 1.0);
  in.push_back(-1.0);
  m = ood::detection_metrics(in, {2.0, 0.0, 0.0, -5.0});
  EXPECT_EQ(m.fpr95, 0.25);
  EXPECT_DOUBLE_EQ(m.auroc, (19 * 3 + 1 * 1) / 80.0);
}

TEST(OodMetrics, RejectNonFiniteOrEmptySets) {
  EXPECT_ERROR_MENTIONS(ood::detection_metrics({1.0, std::nan("")}, {0.0}), "in-distribution", "score 1",
                        "finite");
  EXPECT_ERROR_MENTIONS(ood::detection_metrics({1.0}, {0.0, INFINITY}), "out-of-distribution", "score 1");
  EXPECT_ERROR_MENTIONS(ood::detection_metrics({}, {0.0}), "in-distribution", "no scores");
  EXPECT_ERROR_MENTIONS(ood::roc_curve({1.0}, {}), "out-of-distribution", "no scores");
}

TEST(OodMetrics, RocCurveRunsFromZeroToOneAndThins) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal;
  std::vector<double> in, out;
  for (int i = 0; i < 3000; ++i) in.push_back(normal(rng) + 1);
  for (int i = 0; i < 2000; ++i) out.push_back(normal(rng));
  const ood::RocCurve all = ood::roc_curve(in, out), thin = ood::roc_curve(in, out, 0.01);
  ASSERT_EQ(all.fpr.size(), 5001u);  // (0, 0) and one point per distinct score
  for (const ood::RocCurve* c : {&all, &thin}) {
    EXPECT_EQ(c->fpr.front(), 0.0);
    EXPECT_EQ(c->tpr.front(), 0.0);
    EXPECT_EQ(c->fpr.back(), 1.0);
    EXPECT_EQ(c->tpr.back(), 1.0);
    for (size_t i = 1; i < c->fpr.size(); ++i) {
      EXPECT_GE(c->fpr[i], c->fpr[i - 1]);
      EXPECT_GE(c->tpr[i], c->tpr[i - 1]);
    }
  }
  EXPECT_LT(thin.fpr.size(), 250u);
  EXPECT_GT(thin.fpr.size(), 50u);
  // The trapezoids under the full curve are the AUROC.
  double area = 0;
  for (size_t i = 1; i < all.fpr.size(); ++i)
    area += (all.fpr[i] - all.fpr[i - 1]) * (all.tpr[i] + all.tpr[i - 1]) / 2;
  EXPECT_NEAR(area, ood::detection_metrics(in, out).auroc, 1e-12);
}

TEST(OodScores, MatchLongDoubleSumsWithoutOverflow) {
  // Rows: ordinary logits, logits far past exp's range (a float's max is 3.4e38), a single class row later.
  const std::vector<float> values = {2.0f,  -1.0f,  0.5f,  3.0f,   1e30f, -1e30f, 1e30f, 0.0f,
                                     -7.5f, -7.25f, -8.0f, -90.0f, 88.0f, 89.0f,  -3.0f, 60.0f};
  const Tensor logits = Tensor::from_vector(values, {4, 4});
  for (double T : {1.0, 0.5, 3.0}) {
    const std::vector<double> msp = ood::scores(logits, ood::Score::MaxSoftmax),
                              maxlogit = ood::scores(logits, ood::Score::MaxLogit),
                              energy = ood::scores(logits, ood::Score::Energy, T);
    for (int64_t i = 0; i < 4; ++i) {
      const float* l = values.data() + 4 * i;
      const long double top = *std::max_element(l, l + 4);
      long double sum = 0, sum_t = 0;
      for (int k = 0; k < 4; ++k) sum += std::exp((l[k] - top)), sum_t += std::exp((l[k] - top) / T);
      EXPECT_NEAR(msp[i], static_cast<double>(1 / sum), 1e-15) << "row " << i;
      EXPECT_EQ(maxlogit[i], static_cast<double>(top)) << "row " << i;
      const long double e = top + T * std::log(sum_t);
      EXPECT_NEAR(energy[i], static_cast<double>(e), 1e-15 * std::fabs(static_cast<double>(e)) + 1e-15)
          << "row " << i << ", T " << T;
    }
  }
  // Two tied maxima: msp 1/2 (and the scores' ordering: msp is in (1/K, 1]).
  EXPECT_DOUBLE_EQ(ood::scores(logits, ood::Score::MaxSoftmax)[1], 0.5);
  // One class: the softmax is 1 and the energy is the logit.
  const Tensor one = Tensor::from_vector(std::vector<float>{-4.5f, 2.0f}, {2, 1});
  EXPECT_EQ(ood::scores(one, ood::Score::MaxSoftmax), (std::vector<double>{1.0, 1.0}));
  EXPECT_EQ(ood::scores(one, ood::Score::Energy, 2.0), (std::vector<double>{-4.5, 2.0}));
}

TEST(OodScores, RejectBadInput) {
  EXPECT_ERROR_MENTIONS(
      ood::scores(Tensor::from_vector(std::vector<float>{1.0f, NAN}, {1, 2}), ood::Score::Energy), "logit 1",
      "row 0");
  EXPECT_ERROR_MENTIONS(
      ood::scores(Tensor::from_vector(std::vector<float>{1.0f, 2.0f}, {2}), ood::Score::MaxLogit), "[n, K]");
  EXPECT_ERROR_MENTIONS(
      ood::scores(Tensor::from_vector(std::vector<float>{1.0f}, {1, 1}), ood::Score::Energy, 0.0),
      "temperature");
  EXPECT_ERROR_MENTIONS(ood::parse_score("odin"), "unknown OOD score 'odin'");
  for (ood::Score s : ood::all_scores()) EXPECT_EQ(ood::parse_score(ood::score_name(s)), s);
}

TEST(OodReport, TableHasEverySetAndTheirMean) {
  const ood::NamedScores in{"cifar10", {0.9, 0.8, 0.95, 0.7}};
  const std::vector<ood::NamedScores> outs = {{"svhn", {0.1, 0.85, 0.2}}, {"noise", {0.91, 0.99}}};
  const std::vector<ood::SetMetrics> rows = ood::evaluate(in, outs);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].n, 3);
  const double a0 = rows[0].metrics.auroc, a1 = rows[1].metrics.auroc;
  EXPECT_DOUBLE_EQ(a0, (4 + 4 + 2) / 12.0);  // 0.85 beats 0.8 and 0.7
  EXPECT_DOUBLE_EQ(a1, 1 / 8.0);             // only 0.95 beats 0.91
  const std::string md = ood::metrics_markdown(rows);
  char mean[32];
  std::snprintf(mean, sizeof mean, "| Average |  | %.2f |", 100 * (a0 + a1) / 2);
  EXPECT_NE(md.find(mean), std::string::npos) << md;
  EXPECT_NE(md.find("| svhn | 3 | 83.33 |"), std::string::npos) << md;
  EXPECT_EQ(ood::metrics_markdown({rows[0]}).find("Average"), std::string::npos);  // one set: no mean row

  const std::string roc = ood::roc_svg(in, outs, "ROC");
  const std::string hist = ood::histogram_svg(in, outs, "scores", "msp", 10);
  for (const std::string* svg : {&roc, &hist}) {
    EXPECT_EQ(svg->rfind("<svg", 0), 0u);
    EXPECT_NE(svg->find("svhn"), std::string::npos);
    EXPECT_NE(svg->find("noise"), std::string::npos);
    EXPECT_NE(svg->find("</svg>"), std::string::npos);
  }
  EXPECT_NE(ood::histogram_svg({"a", {1.0, 1.0}}, {{"b", {1.0}}}, "one value", "s").find("</svg>"),
            std::string::npos);
  EXPECT_ERROR_MENTIONS(ood::histogram_svg(in, {{"bad", {NAN}}}, "t", "s"), "bad", "finite");
}

// DISTRO's certified score (its metrics.py): softmax(z/T) of the certified class plus √(2/π)·R at radii up to
// R, 0 beyond R and for an abstention; the table shows plain AUROC per radius and "—" where both sides are 0.
TEST(DistroCertified, ScoresFollowTheirCode) {
  const Tensor logits =
      Tensor::from_vector(std::vector<float>{2.0f, 0.0f, -1.0f, 0.5f, 0.5f, 3.0f, 1.0f, 1.0f, 1.0f}, {3, 3});
  std::vector<Certificate> c(3);
  c[0].prediction = 0, c[0].radius = 0.3;
  c[1].prediction = 2, c[1].radius = 0.1;
  c[2].prediction = -1;  // abstained
  const std::vector<double> radii = {0.0, 0.1, 0.25, 0.5};
  const auto s = ood::distro_certified_scores(c, logits, radii, 2.0);
  ASSERT_EQ(s.size(), 4u);
  // softmax([1, 0, −0.5])_0 and softmax([0.25, 0.25, 1.5])_2, in double.
  const double p0 = std::exp(1.0) / (std::exp(1.0) + 1.0 + std::exp(-0.5)),
               p1 = std::exp(1.5) / (2 * std::exp(0.25) + std::exp(1.5));
  const double k = std::sqrt(2.0 / M_PI);
  const std::vector<std::vector<double>> want = {
      {p0 + k * 0.3, p1 + k * 0.1, 0}, {p0 + k * 0.3, p1 + k * 0.1, 0}, {p0 + k * 0.3, 0, 0}, {0, 0, 0}};
  for (size_t r = 0; r < 4; ++r)
    for (size_t i = 0; i < 3; ++i)
      EXPECT_NEAR(s[r][i], want[r][i], 1e-6) << "radius " << radii[r] << " image " << i;
  EXPECT_ERROR_MENTIONS(ood::distro_certified_scores(c, logits.slice(0, 0, 2), radii, 1.0), "3 certificates");

  // In: the three images; out: one set scored {0.5, 0, 0} at every radius up to 0.25, then zeros.
  std::vector<std::vector<ood::NamedScores>> outs(1);
  for (size_t r = 0; r < 4; ++r)
    outs[0].push_back({"noise", r < 3 ? std::vector<double>{0.5, 0, 0} : std::vector<double>{0, 0, 0}});
  const std::string md = ood::radius_scores_markdown(s, outs, radii);
  // r = 0: the plain AUROC of in {p0 + 0.3k, p1 + 0.1k, 0} against out {0.5, 0, 0}, ties counting half.
  const double auroc0 = ood::detection_metrics(s[0], outs[0][0].scores).auroc;
  char cell[32];
  std::snprintf(cell, sizeof cell, "| noise | %.2f |", 100 * auroc0);
  EXPECT_NE(md.find(cell), std::string::npos) << md;
  EXPECT_NE(md.find("| AUROC r=0.5 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| — |"), std::string::npos) << md;  // r = 0.5: nothing certified on either side
}

}  // namespace
}  // namespace sc::test
