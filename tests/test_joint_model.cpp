// ProoD's joint model (ood/joint_model.h): its log-probabilities against the formula in double, its image
// gradient against central differences of that formula on linear networks computed in double, and its
// bounds: sound over the box, and ProoD's guaranteed confidence σ(ū) + (1 − σ(ū))/K through the max softmax
// bound.
#include <cmath>
#include <random>

#include "nn/interval.h"
#include "ood/joint_model.h"
#include "ood/score_bounds.h"
#include "ood/scores.h"
#include "test_util.h"

namespace sc::test {
namespace {

// log p(y|x) from the classifier's logits f and the detector's logit d, in double: ProoD's formula written
// out directly (no shared code with JointNet).
std::vector<double> joint_formula(const std::vector<double>& f, double d) {
  const size_t K = f.size();
  double sum = 0.0;
  for (double v : f) sum += std::exp(v);
  const double pi = 1.0 / (1.0 + std::exp(-d));
  std::vector<double> z(K);
  for (size_t y = 0; y < K; ++y) z[y] = std::log(pi * std::exp(f[y]) / sum + (1.0 - pi) / K);
  return z;
}

// A linear network (random_classifier's "linear": normalize, flatten, fc) evaluated in double.
struct LinearInDouble {
  std::vector<double> w, b, mean, std;
  int64_t outputs, inputs, plane;
  explicit LinearInDouble(Classifier& m) {
    for (auto& [key, t] : m.named_tensors()) {
      const std::vector<float> v = t->to_float_vector();
      if (key == "fc.weight") w.assign(v.begin(), v.end());
      if (key == "fc.bias") b.assign(v.begin(), v.end());
    }
    mean.assign(m.spec.mean.begin(), m.spec.mean.end());
    std.assign(m.spec.std.begin(), m.spec.std.end());
    outputs = m.spec.num_classes;
    inputs = static_cast<int64_t>(w.size()) / outputs;
    plane = m.spec.height * m.spec.width;
  }
  std::vector<double> operator()(const double* x) const {
    std::vector<double> out(b);
    for (int64_t o = 0; o < outputs; ++o)
      for (int64_t i = 0; i < inputs; ++i)
        out[o] += w[o * inputs + i] * (x[i] - mean[i / plane]) / std[i / plane];
    return out;
  }
};

double detector_logit(const std::vector<double>& out) {
  return out.size() == 1 ? out[0] : out[1] - out[0];
}

TEST(JointModel, LogProbabilitiesMatchTheFormulaAndSumToOne) {
  for (int64_t detector_outputs : {1, 2}) {
    SCOPED_TRACE(detector_outputs);
    auto f = random_classifier("lenet", 3, 32, 7, 41);
    auto d = random_classifier("lenet", 3, 32, detector_outputs, 42);
    const Tensor x = random_images({5, 3, 32, 32}, 43);
    const std::vector<float> fl = f->forward(x).to_float_vector(), dl = d->forward(x).to_float_vector();
    auto joint = ood::make_joint_classifier(std::move(f), std::move(d));
    EXPECT_EQ(joint->spec.arch, "joint(lenet, lenet)");
    const Tensor z = joint->forward(x);
    ASSERT_EQ(z.shape(), (Shape{5, 7}));
    for (int64_t i = 0; i < 5; ++i) {
      const std::vector<double> row(fl.begin() + i * 7, fl.begin() + (i + 1) * 7);
      const std::vector<double> det(dl.begin() + i * detector_outputs,
                                    dl.begin() + (i + 1) * detector_outputs);
      const std::vector<double> expected = joint_formula(row, detector_logit(det));
      double total = 0.0;
      for (int64_t y = 0; y < 7; ++y) {
        EXPECT_NEAR(z.data<float>()[i * 7 + y], expected[y], 2e-6 * (1 + std::abs(expected[y])));
        total += std::exp(static_cast<double>(z.data<float>()[i * 7 + y]));
      }
      EXPECT_NEAR(total, 1.0, 1e-5);
    }
  }
}

// ∂(Σ g·log p)/∂x against central differences in double of the formula on linear networks.
TEST(JointModel, ImageGradientMatchesDifferencesInDouble) {
  for (int64_t detector_outputs : {1, 2}) {
    SCOPED_TRACE(detector_outputs);
    auto f = random_classifier("linear", 3, 5, 6, 51);
    auto d = random_classifier("linear", 3, 5, detector_outputs, 52);
    const LinearInDouble f64(*f), d64(*d);
    auto joint = ood::make_joint_classifier(std::move(f), std::move(d));
    const int64_t n = 3, D = 75, K = 6;
    const Tensor x = random_images({n, 3, 5, 5}, 53);
    const Tensor g = randn({n, K}, 54);
    Tensor dx;
    {
      RecordForBackward record;
      joint->forward(x);
      dx = joint->backward(g);
    }
    ASSERT_EQ(dx.shape(), x.shape());
    const std::vector<float> xv = x.to_float_vector(), gv = g.to_float_vector(), dxv = dx.to_float_vector();
    double err = 0.0, norm = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      std::vector<double> xi(xv.begin() + i * D, xv.begin() + (i + 1) * D);
      const auto objective = [&](const std::vector<double>& at) {
        const std::vector<double> z = joint_formula(f64(at.data()), detector_logit(d64(at.data())));
        double s = 0.0;
        for (int64_t y = 0; y < K; ++y) s += gv[i * K + y] * z[y];
        return s;
      };
      for (int64_t j = 0; j < D; ++j) {
        const double h = 1e-6, keep = xi[j];
        xi[j] = keep + h;
        const double up = objective(xi);
        xi[j] = keep - h;
        const double down = objective(xi);
        xi[j] = keep;
        const double expected = (up - down) / (2 * h);
        err = std::max(err, std::abs(dxv[i * D + j] - expected));
        norm = std::max(norm, std::abs(expected));
      }
    }
    EXPECT_GT(norm, 1e-2);
    EXPECT_LT(err, 1e-5 * norm) << "max error " << err << " against max gradient " << norm;
  }
}

// Over an ℓ∞ box, every log p(y|x') of points in it lies in the joint's bounds, and the max softmax bound
// from them is σ(ū) + (1 − σ(ū))/K with ū the detector's logit bound.
TEST(JointModel, BoundsHoldAndGiveProoDsGuaranteedConfidence) {
  for (int64_t detector_outputs : {1, 2}) {
    SCOPED_TRACE(detector_outputs);
    // A linear detector keeps ū near 0 (a random LeNet's box grows to ū ≈ 100, where σ(ū) = 1 hides errors).
    auto f = random_classifier("lenet", 3, 32, 10, 61);
    auto d = random_classifier("linear", 3, 32, detector_outputs, 62);
    const int64_t n = 4, K = 10;
    const Tensor x = random_images({n, 3, 32, 32}, 63);
    const double eps = 0.002;
    const Interval det = d->bounds(linf_box(x, eps));
    auto joint = ood::make_joint_classifier(std::move(f), std::move(d));
    const Interval b = joint->bounds(linf_box(x, eps));
    const std::vector<double> bound = ood::score_upper_bounds(b.lower, b.upper, ood::Score::MaxSoftmax, 1.0);
    for (int64_t i = 0; i < n; ++i) {
      const double u = detector_outputs == 1 ? det.upper.data<float>()[i]
                                             : static_cast<double>(det.upper.data<float>()[2 * i + 1]) -
                                                   det.lower.data<float>()[2 * i];
      ASSERT_TRUE(std::isfinite(u));
      EXPECT_LT(std::abs(u), 5.0) << "a detector bound where σ(ū) is neither 0 nor 1";
      const double pi = 1.0 / (1.0 + std::exp(-u));
      EXPECT_NEAR(bound[i], pi + (1 - pi) / K, 1e-6);
    }
    std::mt19937_64 rng(64);
    std::uniform_real_distribution<float> offset(-static_cast<float>(eps), static_cast<float>(eps));
    const std::vector<float> xv = x.to_float_vector();
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<float> moved(xv.size());
      for (size_t k = 0; k < xv.size(); ++k) moved[k] = std::clamp(xv[k] + offset(rng), 0.0f, 1.0f);
      const Tensor z = joint->forward(Tensor::from_vector(moved, x.shape()));
      const std::vector<double> msp = ood::scores(z, ood::Score::MaxSoftmax);
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_LE(msp[i], bound[i] + 1e-6) << "image " << i;
        for (int64_t y = 0; y < K; ++y) {
          const float v = z.data<float>()[i * K + y];
          ASSERT_GE(v, b.lower.data<float>()[i * K + y] - 1e-5f);
          ASSERT_LE(v, b.upper.data<float>()[i * K + y] + 1e-5f);
        }
      }
    }
  }
}

TEST(JointModel, RejectsDetectorsAndShapesThatDoNotFit) {
  EXPECT_ERROR_MENTIONS(ood::make_joint_classifier(random_classifier("linear", 3, 5, 7, 1),
                                                   random_classifier("linear", 3, 5, 3, 2)),
                        "detector", "1 output", "not 3");
  EXPECT_ERROR_MENTIONS(ood::make_joint_classifier(random_classifier("linear", 3, 5, 7, 1),
                                                   random_classifier("linear", 3, 6, 1, 2)),
                        "[3, 5, 5]", "[3, 6, 6]");
  auto joint = ood::make_joint_classifier(random_classifier("linear", 3, 5, 7, 1),
                                          random_classifier("linear", 3, 5, 1, 2));
  EXPECT_ERROR_MENTIONS(joint->backward(randn({2, 7}, 3)), "JointNet", "recorded forward");
}

}  // namespace
}  // namespace sc::test
