// Randomized smoothing end to end on the CPU: the closed form of a linear classifier, abstention on the
// decision boundary, the smoothed confidence and its certified bounds against quadrature, Cohen's published
// results through the analysis, and the TSV formatting.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "io/file_util.h"
#include "io/safetensors.h"
#include "nn/models/model_file.h"
#include "ood/certified_confidence.h"
#include "smoothing/analysis.h"
#include "smoothing/results_file.h"
#include "smoothing/smooth.h"
#include "test_util.h"

namespace sc::test {
namespace {

// A 2-class linear classifier on 1×7×7 inputs: class 1 where w·x + b > 0. Its smoothed version is exactly
// g(x) = [w·x + b > 0] with pA = Φ(|w·x + b| / (σ‖w‖)), so the exact certified radius is the distance
// |w·x + b| / ‖w‖ to the hyperplane.
struct LinearSetup {
  std::unique_ptr<Classifier> model;
  std::vector<float> w;
  float b;
  double norm;
  LinearSetup() {
    ModelSpec s;
    s.arch = "linear";
    s.num_classes = 2, s.channels = 1, s.height = 7, s.width = 7;
    model = build_model(s);
    std::mt19937_64 rng(5);
    std::normal_distribution<float> n(0, 1);
    w.resize(49);
    for (auto& v : w) v = n(rng);
    b = 0.3f;
    // Logit difference (class 1 − class 0) = w·x + b: put w and b into row 1, zeros into row 0.
    Tensor W = Tensor::zeros({2, 49}), B = Tensor::zeros({2});
    for (int i = 0; i < 49; ++i) W.data<float>()[49 + i] = w[i];
    B.data<float>()[1] = b;
    for (auto& [key, t] : model->named_tensors()) {
      if (key == "fc.weight") *t = W;
      if (key == "fc.bias") *t = B;
    }
    norm = 0;
    for (float v : w) norm += static_cast<double>(v) * v;
    norm = std::sqrt(norm);
  }
  // A point at signed distance d from the hyperplane (positive: class 1).
  Tensor point(double d, uint64_t seed) const {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<double> x(49);
    double m = b;
    for (int i = 0; i < 49; ++i) x[i] = u(rng), m += w[i] * x[i];
    std::vector<float> out(49);
    for (int i = 0; i < 49; ++i) out[i] = static_cast<float>(x[i] + (d - m / norm) * w[i] / norm);
    return Tensor::from_vector(out, {1, 7, 7});
  }
  double distance(const Tensor& x) const {  // in double, from the float point actually used
    double m = b;
    for (int i = 0; i < 49; ++i) m += static_cast<double>(w[i]) * x.data<float>()[i];
    return m / norm;
  }
};

TEST(Smoothing, LinearClassifierRadiusApproachesTheExactDistance) {
  LinearSetup lin;
  ArgmaxClassifier base(*lin.model);
  const double sigma = 0.5, alpha = 0.001;
  Smooth smooth(base, sigma, 10000, 7);
  int over = 0, n = 0;
  double ratio = 0;
  for (int k = 0; k < 24; ++k) {
    const double d = (k % 2 ? 1 : -1) * sigma * (0.5 + 2.0 * k / 23.0);  // |d| in [0.5σ, 2.5σ], both classes
    const Tensor x = lin.point(d, 100 + k);
    const double exact = std::fabs(lin.distance(x));
    const Certificate c = smooth.certify(x, k, 100, 100000, alpha);
    ASSERT_EQ(c.prediction, d > 0 ? 1 : 0) << "point " << k;
    over += c.radius > exact;
    ratio += c.radius / exact;
    ++n;
  }
  // Each certificate exceeds the truth with probability at most α; among 24, even one is unlikely.
  EXPECT_LE(over, 1);
  EXPECT_GE(ratio / n, 0.95) << "mean certified/exact radius";
  std::printf("[linear closed form] mean certified/exact radius %.4f, %d of %d above the exact radius\n", ratio / n,
              over, n);
}

TEST(Smoothing, PredictAbstainsOnTheDecisionBoundary) {
  LinearSetup lin;
  ArgmaxClassifier base(*lin.model);
  Smooth smooth(base, 0.5, 1000, 11);
  int answered = 0;
  for (int k = 0; k < 100; ++k) answered += smooth.predict(lin.point(0.0, 500 + k), k, 1000, 0.001) != -1;
  EXPECT_LE(answered, 1) << "of 100 boundary points; the test answers at rate <= alpha";
  // Far from the boundary it answers, and correctly.
  EXPECT_EQ(smooth.predict(lin.point(1.0, 9), 0, 1000, 0.001), 1);
  EXPECT_EQ(smooth.predict(lin.point(-1.0, 9), 0, 1000, 0.001), 0);
}

TEST(Smoothing, CountsAreReproducibleAndBatchIndependent) {
  LinearSetup lin;  // on the boundary both classes are drawn, so every noise sample shows in the counts
  ArgmaxClassifier base(*lin.model);
  const Tensor x = lin.point(0.0, 3);
  Smooth a(base, 0.25, 1000, 42), b(base, 0.25, 37, 42), c(base, 0.25, 1000, 43);
  const auto ca = a.sample_counts(x, 5, noise::kEstimation, 2000);
  EXPECT_EQ(ca, b.sample_counts(x, 5, noise::kEstimation, 2000));  // batch size does not change the samples
  EXPECT_NE(ca, c.sample_counts(x, 5, noise::kEstimation, 2000));  // another seed does
  int64_t total = 0;
  for (int64_t v : ca) total += v;
  EXPECT_EQ(total, 2000);
  EXPECT_EQ(a.samples_drawn(), 2000);
}

TEST(Smoothing, ImagesSharingBatchesGetIdenticalResults) {
  LinearSetup lin;
  ArgmaxClassifier base(*lin.model);
  std::vector<Tensor> xs;
  std::vector<int64_t> idx;
  for (int k = 0; k < 7; ++k) {
    xs.push_back(lin.point(0.3 * (k - 3), 40 + k));  // near the boundary: counts on both classes
    idx.push_back(100 + 3 * k);
  }
  Smooth shared(base, 0.5, 64, 3), alone(base, 0.5, 64, 3);
  const auto many = shared.certify(xs, idx, 50, 300, 0.01);  // 7 × 50 selection samples in 64-sample batches
  const auto preds = shared.predict(xs, idx, 30, 0.01);
  for (size_t k = 0; k < xs.size(); ++k) {
    const Certificate one = alone.certify(xs[k], idx[k], 50, 300, 0.01);
    EXPECT_EQ(many[k].prediction, one.prediction) << k;
    EXPECT_EQ(many[k].count, one.count) << k;
    EXPECT_EQ(many[k].radius, one.radius) << k;
    EXPECT_EQ(preds[k], alone.predict(xs[k], idx[k], 30, 0.01)) << k;
  }
}

// The smoothed confidence p̄(x) = E[max softmax(f(x + ε))] of the linear classifier: its logit difference is
// m + σ‖w‖·t with t ~ N(0, 1), and the max softmax of two classes is sigmoid(|·|). By Simpson's rule in
// double.
double linear_smoothed_confidence(double m, double sigma, double norm) {
  const int n = 20000;  // even; t over [−10, 10]
  const double h = 20.0 / n;
  double sum = 0;
  for (int i = 0; i <= n; ++i) {
    const double t = -10.0 + h * i, z = std::fabs(m + sigma * norm * t);
    const double f = 1.0 / (1.0 + std::exp(-z)) * std::exp(-t * t / 2) / std::sqrt(2 * M_PI);
    sum += f * (i == 0 || i == n ? 1 : i % 2 ? 4 : 2);
  }
  return sum * h / 3;
}

std::vector<double> max_softmax(const Tensor& logits) {
  std::vector<double> out;
  for (int64_t r = 0; r < logits.size(0); ++r) {
    const float* l = logits.data<float>() + r * logits.size(1);
    const double d = std::fabs(static_cast<double>(l[1]) - l[0]);
    out.push_back(1.0 / (1.0 + std::exp(-d)));
  }
  return out;
}

TEST(SmoothedConfidence, MeanScoresMatchQuadratureAndIgnoreBatching) {
  LinearSetup lin;
  ArgmaxClassifier base(*lin.model);
  const double sigma = 0.25;
  std::vector<Tensor> xs;
  std::vector<int64_t> idx;
  for (int k = 0; k < 5; ++k) xs.push_back(lin.point(0.15 * (k - 2), 60 + k)), idx.push_back(7 * k);
  Smooth shared(base, sigma, 37, 9), alone(base, sigma, 4096, 9);
  const int64_t n = 20000;
  const std::vector<double> many = shared.mean_scores(xs, idx, noise::kConfidence, n, max_softmax);
  ASSERT_EQ(many.size(), xs.size());
  for (size_t k = 0; k < xs.size(); ++k) {
    // The same samples however the batches fall: the same sum, in the same order.
    EXPECT_EQ(many[k], alone.mean_scores({xs[k]}, {idx[k]}, noise::kConfidence, n, max_softmax)[0]) << k;
    // Monte Carlo against the integral: the standard error is below 0.5/√n = 0.0035.
    const double exact = linear_smoothed_confidence(lin.distance(xs[k]) * lin.norm, sigma, lin.norm);
    EXPECT_NEAR(many[k], exact, 0.012) << k;
    EXPECT_GT(exact, 0.5);
    EXPECT_LT(exact, 1.0);
  }
  EXPECT_EQ(shared.samples_drawn(), 5 * n);
}

// The certified bounds hold for the exact smoothed confidence of the linear classifier: moving x by r along
// ±w changes the logit difference by ±r‖w‖, and p̄ there stays between the bounds computed from p̄(x).
TEST(SmoothedConfidence, CertifiedBoundsHoldForALinearClassifier) {
  const double sigma = 0.25, norm = 6.5;
  int tight = 0;
  for (double m : {-2.0, -0.5, 0.0, 0.3, 1.5, 4.0})
    for (double r : {0.02, 0.1, 0.3, 0.8}) {
      const double p = linear_smoothed_confidence(m, sigma, norm);
      const double hi = ood::certified_upper(p, r, sigma), lo = ood::certified_lower(p, r, sigma);
      EXPECT_LT(lo, p);
      EXPECT_GT(hi, p);
      for (double dir : {-1.0, 1.0}) {
        const double moved = linear_smoothed_confidence(m + dir * r * norm, sigma, norm);
        EXPECT_LE(moved, hi + 1e-12) << "m " << m << ", r " << r;
        EXPECT_GE(moved, lo - 1e-12) << "m " << m << ", r " << r;
        tight += hi - moved < 0.2;
      }
    }
  EXPECT_GT(tight, 10);  // the bounds are not vacuous
}

TEST(SmoothedConfidence, HoeffdingAndBallBoundValues) {
  const ood::ConfidenceInterval c = ood::hoeffding_interval(0.5, 10000, 0.01);
  const double half = std::sqrt(std::log(100.0) / 20000);  // 0.0151743
  EXPECT_NEAR(half, 0.0151743, 1e-7);
  EXPECT_DOUBLE_EQ(c.upper, 0.5 + half);
  EXPECT_DOUBLE_EQ(c.lower, 0.5 - half);
  EXPECT_EQ(ood::hoeffding_interval(0.995, 10000, 0.01).upper, 1.0);  // clipped
  EXPECT_EQ(ood::hoeffding_interval(0.002, 10000, 0.01).lower, 0.0);
  EXPECT_NEAR(ood::certified_upper(0.5, 0.25, 0.25), 0.8413447460685429, 1e-12);  // Φ(1)
  EXPECT_NEAR(ood::certified_lower(0.5, 0.25, 0.25), 0.15865525393145707, 1e-12);
  EXPECT_NEAR(ood::certified_upper(0.3, 0.0, 0.5), 0.3, 1e-12);
  EXPECT_EQ(ood::certified_upper(1.0, 0.1, 0.5), 1.0);
  EXPECT_EQ(ood::certified_lower(0.0, 0.1, 0.5), 0.0);
  EXPECT_ERROR_MENTIONS(ood::hoeffding_interval(1.5, 10, 0.01), "[0, 1]");
  EXPECT_ERROR_MENTIONS(ood::hoeffding_interval(0.5, 0, 0.01), "no samples");
  EXPECT_ERROR_MENTIONS(ood::certified_upper(0.5, -1.0, 0.25), "radius");
  EXPECT_ERROR_MENTIONS(ood::certified_upper(0.5, 0.1, 0.0), "sigma");
}

TEST(SmoothedConfidence, NeedsLogits) {
  // A base classifier with labels only (here: the default of BaseClassifier) says so.
  struct LabelsOnly : ArgmaxClassifier {
    using ArgmaxClassifier::ArgmaxClassifier;
    Tensor logits(const Tensor& x) override { return BaseClassifier::logits(x); }
  };
  LinearSetup lin;
  LabelsOnly base(*lin.model);
  Smooth smooth(base, 0.25, 100, 0);
  EXPECT_ERROR_MENTIONS(smooth.mean_scores({lin.point(0.1, 1)}, {0}, noise::kConfidence, 10, max_softmax),
                        "labels only");
}

TEST(Smoothing, BadArgumentsFailClearly) {
  LinearSetup lin;
  ArgmaxClassifier base(*lin.model);
  EXPECT_ERROR_MENTIONS(Smooth(base, 0.0, 10, 0), "sigma");
  EXPECT_ERROR_MENTIONS(Smooth(base, 0.5, 0, 0), "batch");
  Smooth s(base, 0.5, 10, 0);
  EXPECT_ERROR_MENTIONS(s.certify(lin.point(1, 1), 0, 10, 100, 1.5), "alpha");
  EXPECT_ERROR_MENTIONS(s.sample_counts(randn({3, 7, 7}, 1), 0, noise::kSelection, 10), "does not fit");
}

// The outer envelope over σ of Cohen et al.'s ImageNet runs (σ = 0.25, 0.50, 1.00, each over its own rows:
// the σ = 0.25 log holds 427): at each radius the best of REFERENCE.md's published values, .67 .49 .37 .29
// .19 .15 .12 at r = 0 … 3 (the row Salman et al. print for Cohen et al.); by hand on two small files.
TEST(Analysis, EnvelopeTakesTheBestFileAtEachRadius) {
  const CertifyResults a{"a", {{0, 1, 1, 0.9, true}, {1, 2, 2, 0.1, true}, {2, 0, 3, 0.0, false}}},
      b{"b", {{0, 1, 1, 0.3, true}, {1, 2, 2, 0.3, true}}};
  const std::vector<double> got = certified_accuracy_envelope({a, b}, {0.0, 0.2, 0.5, 1.0});
  ASSERT_EQ(got.size(), 4u);
  EXPECT_DOUBLE_EQ(got[0], 1.0);      // b: 2 of 2
  EXPECT_DOUBLE_EQ(got[1], 1.0);      // b
  EXPECT_DOUBLE_EQ(got[2], 1.0 / 3);  // a: the row at 0.9
  EXPECT_DOUBLE_EQ(got[3], 0.0);
  const std::string md = markdown_table({a, b}, {0.0, 0.5}, true);
  EXPECT_NE(md.find("| envelope (the best file at each radius) | 2–3 | 1.000 | 0.333 | - | - |\n"),
            std::string::npos)
      << md;
  EXPECT_EQ(markdown_table({a, b}, {0.0}).find("envelope"), std::string::npos);
  EXPECT_NE(latex_table({a, b}, {0.0, 0.5}, true).find("envelope & 1.00 & 0.33 & - \\\\"), std::string::npos);
  EXPECT_NE(certified_accuracy_svg({a, b}, 1.0, true).find("envelope"), std::string::npos);

  const std::string dir = shared_dir() + "/reference/cohen-logs/data_certify_imagenet_resnet50_noise_";
  if (!std::filesystem::exists(dir + "0.25_test_sigma_0.25")) GTEST_SKIP() << "no " << dir << "*";
  std::vector<CertifyResults> runs;
  for (const char* sigma : {"0.25", "0.50", "1.00"})
    runs.push_back(read_certify_tsv(dir + sigma + "_test_sigma_" + sigma));
  const std::vector<double> published = {.67, .49, .37, .29, .19, .15, .12},
                            envelope = certified_accuracy_envelope(runs, {0, 0.5, 1, 1.5, 2, 2.5, 3});
  for (size_t i = 0; i < published.size(); ++i) EXPECT_NEAR(envelope[i], published[i], 0.005) << 0.5 * i;
}

TEST(Analysis, ReproducesCohensPublishedCertifiedAccuracies) {
  const std::string dir = shared_dir() + "/reference/cohen-logs/";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no " << dir;
  const auto imagenet = read_certify_tsv(dir + "data_certify_imagenet_resnet50_noise_0.50_test_sigma_0.50");
  const double expect_in[] = {.57, .46, .37, .29};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(certified_accuracy(imagenet, 0.5 * i), expect_in[i], 0.005) << 0.5 * i;
  const auto cifar = read_certify_tsv(dir + "data_certify_cifar10_resnet110_noise_0.25_test_sigma_0.25");
  const double expect_c[] = {.748, .600, .428, .266};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(certified_accuracy(cifar, 0.25 * i), expect_c[i], 0.0005) << 0.25 * i;
  const auto in1 = read_certify_tsv(dir + "data_certify_imagenet_resnet50_noise_1.00_test_sigma_1.00");
  const double expect_1[] = {.44, .38, .33, .26, .19, .15, .12};
  for (int i = 0; i < 7; ++i) EXPECT_NEAR(certified_accuracy(in1, 0.5 * i), expect_1[i], 0.005) << 0.5 * i;
  // The tables mark the best file per radius.
  const std::string md = markdown_table({imagenet, in1}, {0.0, 2.0});
  EXPECT_NE(md.find("**0.572**"), std::string::npos) << md;
  char best_at_2[32];
  std::snprintf(best_at_2, sizeof best_at_2, "**%.3f**", certified_accuracy(in1, 2.0));
  EXPECT_NE(md.find(best_at_2), std::string::npos) << md;
  const std::string tex = latex_table({imagenet, in1}, {0.0});
  EXPECT_NE(tex.find("\\textbf{0.57}"), std::string::npos) << tex;
  // σ = 1.00's ACR (0.875: Σ radii of correct rows / 500) beats σ = 0.50's in both tables.
  EXPECT_NE(tex.find("& \\textbf{0.875} \\\\"), std::string::npos) << tex;
  EXPECT_NE(md.find("| **0.875** |"), std::string::npos) << md;
  // The average certified radius: by hand on four rows (correct at 0.5, wrong at 0.8, abstained, correct at
  // 0.25), and the Markdown table's last column.
  CertifyResults four{
      "four", {{0, 1, 1, 0.5, true}, {1, 2, 3, 0.8, false}, {2, 0, -1, 0.0, false}, {3, 4, 4, 0.25, true}}};
  EXPECT_DOUBLE_EQ(average_certified_radius(four), 0.1875);
  EXPECT_NE(markdown_table({four}, {0.0}).find("| 0.250 | 0.188 |\n"), std::string::npos)
      << markdown_table({four}, {0.0});
  const std::string svg = certified_accuracy_svg({imagenet, in1}, 3.0);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("data_certify_imagenet_resnet50_noise_1.00_test_sigma_1.00"), std::string::npos);
  EXPECT_EQ(parse_radii("0:1:0.25").size(), 5u);
  EXPECT_ERROR_MENTIONS(parse_radii("1:0:0.5"), "--radii");
  EXPECT_EQ(parse_radii("0:0.3:0.1").size(), 4u);
  EXPECT_EQ(parse_radii("0.5,1e-1, 2").size(), 3u);
  // Refused before any radius is made: a step that would give 10^300 radii, numbers out of range, junk.
  for (const char* bad : {"0:1:1e-300", "0:1:0", "0:1e400:1", "0:1:nan", "0.5,x", "0.5,1.5junk", "", "1:2"})
    EXPECT_ERROR_MENTIONS(parse_radii(bad), "--radii");
}

// Cohen et al.'s HighProbAccuracy (their analyze.py): the certified accuracy less α, less Bernstein's
// √(α(1 − α)·ln(1/ρ)/n) and ln(1/ρ)/(3n). By hand on four rows (half correct at r = 0, a quarter at r = 0.4;
// α = 0.001, ρ = 0.05: 0.5 − 0.001 − 0.027364 − 0.249644 = 0.222003, and below zero at r = 0.4, as theirs
// is), and on Cohen et al.'s CIFAR-10 log (σ = 0.25, 500 rows, 0.748 certified at r = 0; α = ρ = 0.001).
TEST(Analysis, HighProbabilityAccuracyAsCohensAnalyze) {
  const CertifyResults four{
      "four", {{0, 1, 1, 0.5, true}, {1, 2, 3, 0.8, false}, {2, 0, -1, 0.0, false}, {3, 4, 4, 0.25, true}}};
  EXPECT_NEAR(high_probability_accuracy(four, 0.0, 0.001, 0.05), 0.22200268908824536, 1e-12);
  EXPECT_NEAR(high_probability_accuracy(four, 0.4, 0.001, 0.05), -0.02799731091175464, 1e-12);
  const std::string md = high_probability_table({four}, {0.0, 0.4}, 0.001, 0.05);
  EXPECT_NE(md.find("| file (with probability >= 0.9500, alpha 0.001) | n | r = 0.00 | r = 0.40 |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| four | 4 | 0.222 | -0.028 |"), std::string::npos) << md;
  for (const auto& [alpha, rho] : {std::pair{0.0, 0.05}, {1.0, 0.05}, {0.001, 0.0}, {0.001, 1.0}})
    EXPECT_ERROR_MENTIONS(high_probability_accuracy(four, 0.0, alpha, rho), "alpha and rho");
  EXPECT_ERROR_MENTIONS(high_probability_accuracy(CertifyResults{"empty", {}}, 0.0, 0.001, 0.05), "no rows");

  const std::string dir = shared_dir() + "/reference/cohen-logs/";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no " << dir;
  const auto cifar = read_certify_tsv(dir + "data_certify_cifar10_resnet110_noise_0.25_test_sigma_0.25");
  EXPECT_NEAR(high_probability_accuracy(cifar, 0.0, 0.001, 0.001), 0.7386797665511042, 1e-12);
}

TEST(ResultsFormat, MatchesPython) {
  // format(x, '.3') and str(datetime.timedelta(seconds=s)) as printed by Python 3.11.
  const std::pair<double, const char*> radii[] = {
      {0.0, "0.0"},       {0.5, "0.5"},       {1.0, "1.0"},        {1.23456, "1.23"},    {0.000266, "0.000266"},
      {1e-05, "1e-05"},   {10.0, "10.0"},     {99.9, "99.9"},      {99.96, "1e+02"},     {123.456, "1.23e+02"},
      {3.81146, "3.81"},  {0.0001, "0.0001"}, {9.999, "10.0"},     {0.09996, "0.1"},     {2.5e-07, "2.5e-07"}};
  for (const auto& [v, s] : radii) EXPECT_EQ(format_3g(v), s) << v;
  const std::pair<double, const char*> times[] = {
      {0.0, "0:00:00"},          {1.5, "0:00:01.500000"},        {14.123456789, "0:00:14.123457"},
      {3725.0000005, "1:02:05.000001"}, {86400.5, "1 day, 0:00:00.500000"}, {5e-07, "0:00:00"},
      {1.5e-06, "0:00:00.000002"}, {59.9999996, "0:01:00"}};
  for (const auto& [v, s] : times) EXPECT_EQ(format_timedelta(v), s) << v;
}

// merge_results joins the parts of a run split by --shard: rows sorted by index, whatever the parts' order;
// a header that differs, a torn last row, an image in two parts, a file that is not a certify output and an
// output holding results are refused, and a refused merge leaves the output as it was.
TEST(ResultsFile, MergeJoinsPartsSortedByIndexAndRefusesBadParts) {
  const std::string header = "idx\tlabel\tpredict\tradius\tcorrect\ttime\n";
  const auto write = [](const std::string& name, const std::string& text) {
    const std::string path = temp_path(name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
  };
  const std::string a = write("a.tsv", header + "1\t3\t3\t0.5\t1\t0:00:01\n12\t1\t-1\t0.0\t0\t0:00:02\n"),
                    b = write("b.tsv", header + "0\t7\t7\t1.23\t1\t0:00:01\n5\t2\t4\t0.1\t0\t0:00:03\n"),
                    empty = write("empty.tsv", header), out = temp_path("merged.tsv");
  EXPECT_EQ(merge_results({a, empty, b}, out, false), 4);
  EXPECT_EQ(io::read_file(out), header + "0\t7\t7\t1.23\t1\t0:00:01\n1\t3\t3\t0.5\t1\t0:00:01\n" +
                                    "5\t2\t4\t0.1\t0\t0:00:03\n12\t1\t-1\t0.0\t0\t0:00:02\n");
  const std::string merged = io::read_file(out);
  EXPECT_ERROR_MENTIONS(merge_results({b, a}, out, false), "already holds results");
  EXPECT_EQ(merge_results({b, a}, out, true), 4);
  EXPECT_EQ(io::read_file(out), merged);

  const std::string predict =
                        write("predict.tsv", "idx\tlabel\tpredict\tcorrect\ttime\n2\t1\t1\t1\t0:00:01\n"),
                    torn = write("torn.tsv", header + "2\t1\t1\t0.3\t1\t0:00:01\n3\t1\t1\t0."),
                    twice = write("twice.tsv", header + "5\t2\t4\t0.1\t0\t0:00:03\n"),
                    other = write("other.tsv", "epoch\ttime\n1\t2\n"),
                    malformed = write("malformed.tsv", header + "x\t1\t1\t0.3\t1\t0:00:01\n");
  const std::string fresh = temp_path("fresh.tsv");
  EXPECT_ERROR_MENTIONS(merge_results({a, predict}, fresh, false), "has the header");
  EXPECT_ERROR_MENTIONS(merge_results({a, torn}, fresh, false), "torn row", "--resume");
  EXPECT_ERROR_MENTIONS(merge_results({a, b, twice}, fresh, false), "image 5 stands in both", "b.tsv",
                        "twice.tsv");
  EXPECT_ERROR_MENTIONS(merge_results({other}, fresh, false), "not a certify or predict output");
  EXPECT_ERROR_MENTIONS(merge_results({a, malformed}, fresh, false), "malformed row 'x");
  EXPECT_ERROR_MENTIONS(merge_results({a, temp_path("missing.tsv")}, fresh, false), "missing.tsv");
  EXPECT_ERROR_MENTIONS(merge_results({a, out}, out, true), "also one of the parts");
  EXPECT_ERROR_MENTIONS(merge_results({}, fresh, false), "no parts");
  EXPECT_FALSE(std::filesystem::exists(fresh));
  EXPECT_EQ(io::read_file(out), merged);
}

}  // namespace
}  // namespace sc::test
