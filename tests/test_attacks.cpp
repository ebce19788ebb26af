// Attacks: the loss gradients against finite differences, PGD/FGSM against a linear classifier's closed
// forms (the exact step, and success exactly when the decision boundary is within ε), SmoothAdv's direction
// on a linear classifier, determinism, and errors.
#include <algorithm>
#include <cmath>
#include <random>

#include "attacks/apgd.h"
#include "attacks/ddn.h"
#include "attacks/fab.h"
#include "attacks/loss_gradient.h"
#include "attacks/monotone_pgd.h"
#include "attacks/perturbation.h"
#include "attacks/pgd.h"
#include "attacks/score_ascent.h"
#include "attacks/smoothadv.h"
#include "attacks/square.h"
#include "nn/interval.h"
#include "nn/models/noisy_network.h"
#include "ood/score_objective.h"
#include "test_util.h"

namespace sc::test {
namespace {

using attacks::Norm;

TEST(AttackLosses, GradientsMatchFiniteDifferences) {
  expect_gradient_matches_differences(attacks::cross_entropy({3, 0, 6, 1, 1, 5}), random_logits(42, 1), 6, 7);
  expect_gradient_matches_differences(attacks::dlr({3, 0, 6, 1, 1, 5}), random_logits(42, 5), 6, 7);
  expect_gradient_matches_differences(attacks::dlr_targeted({3, 0, 6, 1, 1, 5}, {0, 4, 2, 6, 3, 1}),
                                      random_logits(42, 7), 6, 7);
  expect_gradient_matches_differences(attacks::margin({3, 0, 6, 1, 1, 5}), random_logits(42, 8), 6, 7);
  // Two images, three noisy copies each.
  expect_gradient_matches_differences(attacks::smoothed_soft_cross_entropy({4, 2}, 3), random_logits(42, 2),
                                      6, 7);
  expect_gradient_matches_differences(attacks::mean_cross_entropy({4, 2}, 3), random_logits(42, 9), 6, 7);
}

// The EOT loss is the mean of the copies' cross-entropies; with one copy, the cross-entropy itself. By
// Jensen's inequality it is at least SmoothAdv's −log of the mean softmax.
TEST(AttackLosses, EotLossAveragesTheCopiesCrossEntropies) {
  const std::vector<double> z = random_logits(42, 11);
  std::vector<double> ce, eot, soft, d_ce(42), d_eot(42), d_soft(42);
  attacks::cross_entropy({4, 4, 4, 2, 2, 2})(z, 6, 7, ce, d_ce);
  attacks::mean_cross_entropy({4, 2}, 3)(z, 6, 7, eot, d_eot);
  attacks::smoothed_soft_cross_entropy({4, 2}, 3)(z, 6, 7, soft, d_soft);
  ASSERT_EQ(eot.size(), 2u);
  for (size_t g = 0; g < 2; ++g) {
    EXPECT_NEAR(eot[g], (ce[3 * g] + ce[3 * g + 1] + ce[3 * g + 2]) / 3, 1e-12);
    EXPECT_GE(eot[g], soft[g] - 1e-12);
  }
  for (size_t i = 0; i < 42; ++i) EXPECT_NEAR(d_eot[i], d_ce[i] / 3, 1e-15);
  std::vector<double> one, d_one(42);
  attacks::mean_cross_entropy({4, 4, 4, 2, 2, 2}, 1)(z, 6, 7, one, d_one);
  EXPECT_EQ(one, ce);
  EXPECT_ERROR_MENTIONS(attacks::mean_cross_entropy({4, 2}, 2)(z, 6, 7, one, d_one), "2 labels × 2 copies");
}

TEST(AttackLosses, SmoothedLossOfOneCopyIsTheCrossEntropy) {
  const std::vector<double> z = random_logits(35, 3);
  std::vector<double> l1, l2, d1(35), d2(35);
  attacks::cross_entropy({0, 1, 2, 3, 4})(z, 5, 7, l1, d1);
  attacks::smoothed_soft_cross_entropy({0, 1, 2, 3, 4}, 1)(z, 5, 7, l2, d2);
  for (size_t i = 0; i < l1.size(); ++i) EXPECT_NEAR(l1[i], l2[i], 1e-12);
  for (size_t i = 0; i < d1.size(); ++i) EXPECT_NEAR(d1[i], d2[i], 1e-12);
}

// DLR by hand, and its invariance to shifting and scaling the logits.
TEST(AttackLosses, DlrValues) {
  std::vector<double> l, dz(8);
  attacks::dlr({0, 1})({3, 1, 2, 0, 3, 1, 2, 0}, 2, 4, l, dz);
  EXPECT_NEAR(l[0], -0.5, 1e-9);  // y = 0: −(3 − 2)/(3 − 1)
  EXPECT_NEAR(l[1], 1.0, 1e-9);   // y = 1: −(1 − 3)/(3 − 1)
  std::vector<double> z = random_logits(14, 6), moved = z, l2, dz14(14);
  for (double& v : moved) v = 5 * v + 7;
  attacks::dlr({2, 4})(z, 2, 7, l, dz14);
  attacks::dlr({2, 4})(moved, 2, 7, l2, dz14);
  EXPECT_NEAR(l[0], l2[0], 1e-9);
  EXPECT_NEAR(l[1], l2[1], 1e-9);
  std::vector<double> dz2(2);
  EXPECT_ERROR_MENTIONS(attacks::dlr({0})({1, 2}, 1, 2, l, dz2), "at least 3 classes");
}

// Targeted DLR and the margin by hand; the targeted DLR too is invariant to shifting and scaling the logits.
TEST(AttackLosses, TargetedDlrAndMarginValues) {
  std::vector<double> l, dz(10);
  // Sorted: 3 (class 0), 2 (class 2), 1 (class 1), 0 (class 3), −1: D = 3 − (1 + 0)/2 = 2.5.
  const std::vector<double> z = {3, 1, 2, 0, -1, 3, 1, 2, 0, -1};
  attacks::dlr_targeted({0, 2}, {1, 4})(z, 2, 5, l, dz);
  EXPECT_NEAR(l[0], -0.8, 1e-9);  // −(3 − 1)/2.5
  EXPECT_NEAR(l[1], -1.2, 1e-9);  // y = 2, t = 4: −(2 − (−1))/2.5
  attacks::margin({0, 4})(z, 2, 5, l, dz);
  EXPECT_NEAR(l[0], 1.0, 1e-12);   // 3 − 2
  EXPECT_NEAR(l[1], -4.0, 1e-12);  // −1 − 3
  std::vector<double> r = random_logits(14, 9), moved = r, l2, dz14(14);
  for (double& v : moved) v = 3 * v - 2;
  attacks::dlr_targeted({2, 4}, {5, 0})(r, 2, 7, l, dz14);
  attacks::dlr_targeted({2, 4}, {5, 0})(moved, 2, 7, l2, dz14);
  EXPECT_NEAR(l[0], l2[0], 1e-9);
  EXPECT_NEAR(l[1], l2[1], 1e-9);
  std::vector<double> dz3(3);
  EXPECT_ERROR_MENTIONS(attacks::dlr_targeted({0}, {1})({1, 2, 3}, 1, 3, l, dz3), "at least 4 classes");
  EXPECT_ERROR_MENTIONS(attacks::dlr_targeted({0}, {7})(random_logits(5, 1), 1, 5, l, dz), "label 7");
}

TEST(AttackLosses, UnlabeledImagesCannotBeAttacked) {
  std::vector<double> l, dz(14);
  EXPECT_ERROR_MENTIONS(attacks::cross_entropy({0, -1})(random_logits(14, 4), 2, 7, l, dz), "label -1",
                        "unlabeled");
}

// LogitsAt: the gradients of several losses from one recorded forward pass are, bit for bit, what a forward
// and backward pass for each gives, even with another loss's backward pass between them.
TEST(AttackLosses, OneForwardPassServesSeveralLosses) {
  auto model = random_classifier("cifar_resnet20", 3, 16, 10, 4);
  const Tensor x = random_images({3, 3, 16, 16}, 5);
  const std::vector<int64_t> labels = {1, 4, 7}, targets = {2, 0, 9};
  const attacks::LogitsAt at(*model, x);
  const attacks::LossGradient ce = at.evaluate(attacks::cross_entropy(labels)),
                              gap = at.evaluate(attacks::logit_gap(labels, targets));
  const attacks::LossGradient ce_alone = attacks::loss_gradient(*model, x, attacks::cross_entropy(labels)),
                              gap_alone =
                                  attacks::loss_gradient(*model, x, attacks::logit_gap(labels, targets));
  EXPECT_TRUE(identical(ce.grad, ce_alone.grad));
  EXPECT_TRUE(identical(gap.grad, gap_alone.grad));
  EXPECT_FALSE(identical(ce.grad, gap.grad));
  EXPECT_EQ(ce.loss, ce_alone.loss);
  EXPECT_EQ(gap.loss, gap_alone.loss);
  EXPECT_EQ(ce.predictions, ce_alone.predictions);
  const attacks::LogitsAt unrecorded(*model, x, false);
  EXPECT_EQ(unrecorded.evaluate(attacks::margin(labels), false).loss,
            at.evaluate(attacks::margin(labels), false).loss);
  EXPECT_ERROR_MENTIONS(unrecorded.evaluate(attacks::margin(labels)), "needs the forward pass recorded");
}

// A 2-class linear classifier on 3×4×4 inputs: class 1 where w·x + b > 0 (row 1 holds w and b, row 0 zeros),
// with w·x + b = 0.1 at the box's centre.
struct LinearModel {
  std::unique_ptr<Classifier> model;
  std::vector<double> w;
  double b = 0.1, l1 = 0, l2 = 0;  // b as set below
  LinearModel() {
    ModelSpec s;
    s.arch = "linear";
    s.num_classes = 2, s.channels = 3, s.height = 4, s.width = 4;
    model = build_model(s);
    std::mt19937_64 rng(11);
    std::normal_distribution<double> g(0, 1);
    Tensor W = Tensor::zeros({2, 48}), B = Tensor::zeros({2});
    for (int i = 0; i < 48; ++i) {
      w.push_back(static_cast<float>(g(rng)));
      W.data<float>()[48 + i] = static_cast<float>(w.back());
      l1 += std::fabs(w.back()), l2 += w.back() * w.back();
    }
    l2 = std::sqrt(l2);
    for (double v : w) b -= 0.5 * v;  // the boundary passes near the box's centre
    B.data<float>()[1] = static_cast<float>(b);
    for (auto& [key, t] : model->named_tensors()) {
      if (key == "fc.weight") *t = W;
      if (key == "fc.bias") *t = B;
    }
  }
  double margin(const float* x) const {
    double m = b;
    for (int i = 0; i < 48; ++i) m += w[i] * x[i];
    return m;
  }
  // Image i's perturbation adv − clean (48 values each): its ℓ2 norm and its cosine with −w.
  std::pair<double, double> norm_and_cosine_against_w(const std::vector<float>& clean,
                                                      const std::vector<float>& adv, int i) const {
    double dot = 0, norm = 0;
    for (int e = 0; e < 48; ++e) {
      const double d = adv[i * 48 + e] - clean[i * 48 + e];
      dot += -d * w[e], norm += d * d;
    }
    norm = std::sqrt(norm);
    return {norm, norm > 0 ? dot / (norm * l2) : 0.0};
  }
  // Images in [0.4, 0.6] moved along w until w·x + b = target margin (class 1 for a positive one).
  Tensor images(const std::vector<double>& margins, uint64_t seed) const {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0.4, 0.6);
    std::vector<float> v;
    for (double target : margins) {
      std::vector<float> x(48);
      for (auto& e : x) e = static_cast<float>(u(rng));
      const double shift = (target - margin(x.data())) / (l2 * l2);
      for (int i = 0; i < 48; ++i) {
        x[i] = static_cast<float>(x[i] + shift * w[i]);
        SC_CHECK(x[i] >= 0.05f && x[i] <= 0.95f, "test image leaves the box: pick a smaller margin");
      }
      v.insert(v.end(), x.begin(), x.end());
    }
    return Tensor::from_vector(v, {static_cast<int64_t>(margins.size()), 3, 4, 4});
  }
};

// What every attack result must satisfy: inside the ball and the box, and the reported predictions are what
// the model says at the returned images.
void expect_sound(Classifier& model, const Tensor& x, const attacks::AttackResult& r, Norm norm, double eps) {
  const std::vector<float> clean = x.to_float_vector(), adv = r.adversarial.cpu().to_float_vector();
  const int64_t n = x.size(0), d = x.numel() / n;
  const Tensor logits = model.forward(r.adversarial);
  for (int64_t i = 0; i < n; ++i) {
    std::vector<float> delta(static_cast<size_t>(d));
    for (int64_t e = 0; e < d; ++e) {
      delta[e] = adv[i * d + e] - clean[i * d + e];
      EXPECT_GE(adv[i * d + e], 0.0f);
      EXPECT_LE(adv[i * d + e], 1.0f);
    }
    const double size =
        norm == Norm::Linf ? attacks::linf_norm(delta.data(), d) : attacks::l2_norm(delta.data(), d);
    EXPECT_LE(size, eps * (1 + 1e-5)) << "image " << i;
    const float* row = logits.data<float>() + i * logits.size(1);
    EXPECT_EQ(r.predictions[i], std::max_element(row, row + logits.size(1)) - row) << "image " << i;
  }
}

TEST(Pgd, FgsmStepsAgainstTheSignOfTheWeights) {
  LinearModel lin;
  const double eps = 0.01;
  // Class-1 images with margins below and above what the ℓ∞ step ε·‖w‖₁ removes.
  const std::vector<double> margins = {0.5 * eps * lin.l1, 2.0 * eps * lin.l1, 0.9 * eps * lin.l1};
  const Tensor x = lin.images(margins, 3);
  const auto r =
      attacks::pgd_attack(*lin.model, x, {1, 1, 1}, {0, 1, 2}, attacks::fgsm_options(Norm::Linf, eps));
  const std::vector<float> clean = x.to_float_vector(), adv = r.adversarial.to_float_vector();
  for (int i = 0; i < 3; ++i) {
    for (int e = 0; e < 48; ++e) {
      const float expected =
          std::clamp(clean[i * 48 + e] - static_cast<float>(eps) * (lin.w[e] > 0 ? 1.f : -1.f), 0.0f, 1.0f);
      ASSERT_EQ(adv[i * 48 + e], expected) << "image " << i << " element " << e;
    }
  }
  EXPECT_EQ(r.success, (std::vector<bool>{true, false, true}));
  expect_sound(*lin.model, x, r, Norm::Linf, eps);
}

// The smallest perturbation that flips a linear classifier has ℓ2 norm margin/‖w‖₂ and ℓ∞ norm margin/‖w‖₁
// (away from the box's faces): PGD must succeed with ε 20% above it and cannot below.
TEST(Pgd, SucceedsExactlyWhenTheBoundaryIsWithinEps) {
  LinearModel lin;
  for (Norm norm : {Norm::L2, Norm::Linf}) {
    const double dual = norm == Norm::L2 ? lin.l2 : lin.l1;
    const double distance = 0.08;
    const Tensor x = lin.images({distance * dual, distance * dual, distance * dual}, 5);
    for (double factor : {0.8, 1.2}) {
      attacks::PgdOptions o;
      o.norm = norm;
      o.eps = factor * distance;
      o.steps = 20;
      o.step_size = o.eps / 4;
      o.restarts = 2;
      o.seed = 9;
      const auto r = attacks::pgd_attack(*lin.model, x, {1, 1, 1}, {0, 1, 2}, o);
      for (int i = 0; i < 3; ++i)
        EXPECT_EQ(r.success[i], factor > 1) << attacks::norm_name(norm) << " ε×" << factor << " image " << i;
      expect_sound(*lin.model, x, r, norm, o.eps);
      // Targeted at class 0, the same attack.
      o.targeted = true;
      const auto t = attacks::pgd_attack(*lin.model, x, {0, 0, 0}, {0, 1, 2}, o);
      EXPECT_EQ(t.success, r.success) << attacks::norm_name(norm) << " targeted, ε×" << factor;
    }
  }
}

// The randomized model adds N(0, σ²) to every input element afresh at each pass: on the linear classifier the
// class-1 logit moves by w·δ ~ N(0, σ²‖w‖₂²), independently for each row and pass. Its input gradient is the
// classifier's (here w, whatever the draw), and the same seed gives the same sequence of draws.
TEST(RandomizedModel, AddsFreshNoiseAndPassesTheGradient) {
  LinearModel lin;
  const double sigma = 0.3;
  auto noisy = noisy_network(*lin.model, sigma, 17);
  const int64_t rows = 250, passes = 4;
  const Tensor one = lin.images({0.2}, 2);
  const std::vector<float> x1 = one.to_float_vector();
  std::vector<float> many;
  for (int64_t r = 0; r < rows; ++r) many.insert(many.end(), x1.begin(), x1.end());
  const Tensor x = Tensor::from_vector(many, {rows, 3, 4, 4});
  const double clean = lin.margin(x1.data());
  double sum = 0, squares = 0;
  std::vector<float> first;
  for (int64_t k = 0; k < passes; ++k) {
    const std::vector<float> z = noisy->forward(x).to_float_vector();
    if (k == 0) first = z;
    for (int64_t r = 0; r < rows; ++r) {
      EXPECT_EQ(z[2 * r], 0.0f);  // class 0's row of weights and bias is zero
      const double moved = (z[2 * r + 1] - clean) / (sigma * lin.l2);  // ~ N(0, 1)
      sum += moved, squares += moved * moved;
    }
  }
  const double count = static_cast<double>(rows * passes), mean = sum / count;
  EXPECT_LT(std::fabs(mean), 4 / std::sqrt(count));  // 4 standard errors
  EXPECT_NEAR(squares / count - mean * mean, 1.0, 0.2);
  EXPECT_NE(first[1], first[3]) << "identical rows must get different noise";
  auto twin = noisy_network(*lin.model, sigma, 17), other = noisy_network(*lin.model, sigma, 18);
  EXPECT_EQ(twin->forward(x).to_float_vector(), first);
  EXPECT_NE(other->forward(x).to_float_vector(), first);
  EXPECT_NE(twin->forward(x).to_float_vector(), first) << "the second pass must draw anew";
  {
    RecordForBackward recording;
    noisy->forward(x);
  }
  const Tensor dy = Tensor::from_vector(std::vector<float>(static_cast<size_t>(2 * rows), 1.0f), {rows, 2});
  const std::vector<float> g = noisy->backward(dy).to_float_vector();
  for (int64_t r = 0; r < rows; ++r)
    for (int e = 0; e < 48; ++e)
      ASSERT_FLOAT_EQ(g[r * 48 + e], static_cast<float>(lin.w[e])) << r << " " << e;
  EXPECT_ERROR_MENTIONS(noisy->bounds(Interval{x, x}), "no interval bounds");
  EXPECT_ERROR_MENTIONS(noisy_network(*lin.model, 0, 1), "must be positive");
}

// Expectation over transformation: the mean loss and input gradient of `draws` passes through a randomized
// network, and the last pass's predictions. A twin with the same seed, run pass by pass, gives the same
// numbers.
TEST(RandomizedModel, EotAveragesTheDrawsLossesAndGradients) {
  auto net = random_classifier("lenet", 1, 28, 10, 6);
  auto noisy = noisy_network(*net, 0.5, 3), twin = noisy_network(*net, 0.5, 3);
  const Tensor x = random_images({3, 1, 28, 28}, 8);
  const std::vector<int64_t> labels = {2, 5, 9};
  const int draws = 5;
  const auto eot = attacks::eot_loss_gradient(*noisy, x, attacks::cross_entropy(labels), draws);
  std::vector<double> loss(3, 0.0), grad(static_cast<size_t>(x.numel()), 0.0);
  attacks::LossGradient last;
  std::vector<float> first_grad;
  for (int k = 0; k < draws; ++k) {
    last = attacks::loss_gradient(*twin, x, attacks::cross_entropy(labels));
    for (int i = 0; i < 3; ++i) loss[i] += last.loss[i] / draws;
    const std::vector<float> g = last.grad.to_float_vector();
    if (k == 0) first_grad = g;
    for (size_t e = 0; e < g.size(); ++e) grad[e] += g[e];
  }
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(eot.loss[i], loss[i], 1e-12 * (1 + loss[i]));
  EXPECT_EQ(eot.predictions, last.predictions);
  const std::vector<float> g = eot.grad.to_float_vector();
  double differs = 0;
  for (size_t e = 0; e < g.size(); ++e) {
    ASSERT_EQ(g[e], static_cast<float>(grad[e] / draws)) << e;
    differs = std::max(differs, std::fabs(double{g[e]} - first_grad[e]));
  }
  EXPECT_GT(differs, 1e-4) << "the draws' gradients should differ";
  // Without a gradient, the same passes: the next draws of both stay in step.
  const auto look = attacks::eot_loss_gradient(*noisy, x, attacks::cross_entropy(labels), draws, false);
  std::vector<double> look_loss(3, 0.0);
  for (int k = 0; k < draws; ++k) {
    const auto l = attacks::loss_gradient(*twin, x, attacks::cross_entropy(labels), false);
    for (int i = 0; i < 3; ++i) look_loss[i] += l.loss[i] / draws;
  }
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(look.loss[i], look_loss[i], 1e-12 * (1 + look_loss[i]));
  EXPECT_ERROR_MENTIONS(attacks::eot_loss_gradient(*noisy, x, attacks::cross_entropy(labels), 0),
                        "at least 1");
}

// PGD and APGD with expectation over transformation on the linear classifier behind a faint noise (σ = 1e-4,
// far below the margins' gaps): they still succeed exactly where the boundary is within ε.
TEST(RandomizedModel, AttacksWithEotFindTheLinearBoundary) {
  LinearModel lin;
  auto noisy = noisy_network(*lin.model, 1e-4, 5);
  for (Norm norm : {Norm::L2, Norm::Linf}) {
    const double dual = norm == Norm::L2 ? lin.l2 : lin.l1, distance = 0.08;
    const Tensor x = lin.images({distance * dual, distance * dual, distance * dual}, 5);
    for (double factor : {0.8, 1.2}) {
      attacks::PgdOptions o;
      o.norm = norm, o.eps = factor * distance, o.steps = 20, o.step_size = o.eps / 4, o.seed = 9;
      o.eot = 3;
      const auto p = attacks::pgd_attack(*noisy, x, {1, 1, 1}, {0, 1, 2}, o);
      const auto a = attacks::apgd_attack(*noisy, x, {1, 1, 1}, {0, 1, 2}, o);
      for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(p.success[i], factor > 1) << attacks::norm_name(norm) << " pgd ε×" << factor << " " << i;
        EXPECT_EQ(a.success[i], factor > 1) << attacks::norm_name(norm) << " apgd ε×" << factor << " " << i;
      }
    }
  }
  attacks::PgdOptions bad;
  bad.eot = 0;
  EXPECT_ERROR_MENTIONS(attacks::check_options(bad), "--eot");
}

// Croce & Hein's checkpoints for 100 iterations: p = 0, 0.22, 0.41, 0.57, 0.70, 0.80, 0.87, 0.93, 0.99.
TEST(Apgd, CheckpointsFollowThePaper) {
  EXPECT_EQ(attacks::apgd_checkpoints(100), (std::vector<int>{22, 41, 57, 70, 80, 87, 93, 99}));
  EXPECT_EQ(attacks::apgd_checkpoints(10), (std::vector<int>{3, 5, 6, 7, 8, 9}));
  EXPECT_TRUE(attacks::apgd_checkpoints(1).empty());
}

// APGD too finds the boundary exactly when it is within ε (and never reports success beyond it).
TEST(Apgd, SucceedsExactlyWhenTheBoundaryIsWithinEps) {
  LinearModel lin;
  for (Norm norm : {Norm::L2, Norm::Linf}) {
    const double dual = norm == Norm::L2 ? lin.l2 : lin.l1, distance = 0.08;
    const Tensor x = lin.images({distance * dual, distance * dual, 0.5 * distance * dual}, 15);
    for (double factor : {0.8, 1.2}) {
      attacks::PgdOptions o;
      o.norm = norm;
      o.eps = factor * distance;
      o.steps = 20;
      o.seed = 3;
      const auto r = attacks::apgd_attack(*lin.model, x, {1, 1, 1}, {0, 1, 2}, o);
      EXPECT_EQ(r.success, (std::vector<bool>{factor > 1, factor > 1, true}))
          << attacks::norm_name(norm) << " ε×" << factor;
      expect_sound(*lin.model, x, r, norm, o.eps);
    }
  }
}

// A 5-class linear classifier on 3×4×4 inputs around one image x0 in [0.4, 0.6], with the logits
// 1, 0.9, 0, −5, −6 at x0: class 1 is the runner-up, but its weights differ from class 0's by little, so its
// boundary is far; class 2's differ by much, so its boundary is the nearest.
struct FiveClassLinear {
  std::unique_ptr<Classifier> model;
  std::vector<float> x0;
  std::vector<std::vector<double>> w;  // [5][48]
  FiveClassLinear() {
    ModelSpec s;
    s.arch = "linear";
    s.num_classes = 5, s.channels = 3, s.height = 4, s.width = 4;
    model = build_model(s);
    std::mt19937_64 rng(29);
    std::normal_distribution<double> g(0, 1);
    std::uniform_real_distribution<double> u(0.4, 0.6);
    for (int e = 0; e < 48; ++e) x0.push_back(static_cast<float>(u(rng)));
    w.assign(5, std::vector<double>(48));
    const double spread[5] = {0, 0.02, 2, 2, 2}, logit[5] = {1, 0.9, 0, -5, -6};
    for (int e = 0; e < 48; ++e) w[0][e] = g(rng);
    Tensor W = Tensor::zeros({5, 48}), B = Tensor::zeros({5});
    for (int k = 0; k < 5; ++k) {
      double at_x0 = 0;
      for (int e = 0; e < 48; ++e) {
        w[k][e] =
            static_cast<float>(k == 0 ? w[0][e] : w[0][e] + spread[k] * g(rng));  // as the model holds it
        W.data<float>()[k * 48 + e] = static_cast<float>(w[k][e]);
        at_x0 += static_cast<double>(static_cast<float>(w[k][e])) * x0[e];
      }
      B.data<float>()[k] = static_cast<float>(logit[k] - at_x0);
    }
    for (auto& [key, t] : model->named_tensors()) {
      if (key == "fc.weight") *t = W;
      if (key == "fc.bias") *t = B;
    }
  }
  // The distance from x0 to the boundary between classes 0 and t: the logit gap over the dual norm of
  // w_0 − w_t (the box is far).
  double distance(int t, Norm norm) const {
    const Tensor z = model->forward(image());
    double dual = 0;
    for (int e = 0; e < 48; ++e) {
      const double v = std::fabs(w[0][e] - w[t][e]);
      dual += norm == Norm::Linf ? v : v * v;
    }
    if (norm == Norm::L2) dual = std::sqrt(dual);
    return (z.data<float>()[0] - z.data<float>()[t]) / dual;
  }
  Tensor image() const { return Tensor::from_vector(x0, {1, 3, 4, 4}); }
  // The size of the perturbation an attack kept, in `norm`.
  double perturbation(const attacks::AttackResult& r, Norm norm) const {
    std::vector<float> delta = r.adversarial.to_float_vector();
    for (int e = 0; e < 48; ++e) delta[e] -= x0[e];
    return norm == Norm::Linf ? attacks::linf_norm(delta.data(), 48) : attacks::l2_norm(delta.data(), 48);
  }
};

// APGD-T tries the classes in the order of their logits at the image: with one target it walks only towards
// the runner-up, whose boundary is out of reach; with two it finds the nearest boundary (class 2's) when it
// lies within ε; with every target and ε below that distance, nothing.
TEST(Apgd, TargetedWalksTowardsTheRankedClasses) {
  FiveClassLinear lin;
  for (Norm norm : {Norm::Linf, Norm::L2}) {
    SCOPED_TRACE(attacks::norm_name(norm));
    const double nearest = lin.distance(2, norm);
    for (int t : {1, 3, 4}) ASSERT_GT(lin.distance(t, norm), 2 * nearest) << "class " << t;
    attacks::PgdOptions o;
    o.norm = norm, o.eps = 1.5 * nearest, o.steps = 30, o.seed = 8;
    const auto runner_up = attacks::apgd_targeted_attack(*lin.model, lin.image(), {0}, {0}, o, 1);
    EXPECT_FALSE(runner_up.success[0]);
    const auto two = attacks::apgd_targeted_attack(*lin.model, lin.image(), {0}, {0}, o, 2);
    EXPECT_TRUE(two.success[0]);
    EXPECT_EQ(two.predictions[0], 2);
    expect_sound(*lin.model, lin.image(), two, norm, o.eps);
    o.eps = 0.8 * nearest;
    const auto all = attacks::apgd_targeted_attack(*lin.model, lin.image(), {0}, {0}, o, 9);
    EXPECT_FALSE(all.success[0]);
    expect_sound(*lin.model, lin.image(), all, norm, o.eps);
  }
  LinearModel two_classes;
  EXPECT_ERROR_MENTIONS(attacks::apgd_targeted_attack(*two_classes.model, two_classes.images({1.0}, 1), {1},
                                                      {0}, attacks::PgdOptions(), 9),
                        "at least 4 classes");
}

// The box-constrained projection onto a hyperplane: by hand where the box binds, the closed forms where it
// does not (ℓ∞: (b − w·t)/‖w‖₁·sign(w); ℓ2: (b − w·t)·w/‖w‖₂²), and the corner when the box holds no point of
// the hyperplane.
TEST(Fab, ProjectionOntoAHyperplaneInTheBox) {
  for (Norm norm : {Norm::Linf, Norm::L2}) {
    SCOPED_TRACE(attacks::norm_name(norm));
    // w·x must rise by 0.6; the first coordinate can rise by 0.1 only.
    std::vector<double> d = attacks::project_onto_hyperplane(norm, {0.9, 0.5}, {1, 1}, 2.0);
    EXPECT_NEAR(d[0], 0.1, 1e-12);
    EXPECT_NEAR(d[1], 0.5, 1e-12);
    d = attacks::project_onto_hyperplane(norm, {0.9, 0.5}, {1, 1}, 3.0);  // out of reach: the corner (1, 1)
    EXPECT_NEAR(d[0], 0.1, 1e-12);
    EXPECT_NEAR(d[1], 0.5, 1e-12);
    d = attacks::project_onto_hyperplane(norm, {0.9, 0.5, 0.2}, {-2, 0, 1}, -1.6);  // w·t = −1.6: no step
    for (double v : d) EXPECT_NEAR(v, 0.0, 1e-15);
    std::mt19937_64 rng(3);
    std::normal_distribution<double> g(0, 1);
    std::uniform_real_distribution<double> u(0.3, 0.7);
    std::vector<double> t(20), w(20);
    double wt = 0, l1 = 0, l2 = 0;
    for (int i = 0; i < 20; ++i) {
      t[i] = u(rng), w[i] = g(rng);
      wt += w[i] * t[i], l1 += std::fabs(w[i]), l2 += w[i] * w[i];
    }
    for (double change : {0.3, -0.2}) {
      d = attacks::project_onto_hyperplane(norm, t, w, wt + change);
      for (int i = 0; i < 20; ++i) {
        const double want = norm == Norm::Linf ? change / l1 * (w[i] > 0 ? 1 : -1) : change * w[i] / l2;
        EXPECT_NEAR(d[i], want, 1e-12) << "coordinate " << i;
      }
    }
    // A change that makes coordinates meet the box: on the hyperplane, inside the box, and no coordinate
    // moves less than an unconstrained one while it has room (ℓ∞: all free coordinates move by the same
    // amount).
    d = attacks::project_onto_hyperplane(norm, t, w, wt + 0.6 * l1 * 0.4);
    double reached = 0;
    for (int i = 0; i < 20; ++i) {
      reached += w[i] * d[i];
      EXPECT_GE(t[i] + d[i], -1e-12);
      EXPECT_LE(t[i] + d[i], 1 + 1e-12);
    }
    EXPECT_NEAR(reached, 0.6 * l1 * 0.4, 1e-9);
  }
}

// FAB-T on the 5-class linear classifier, where the linearization is exact: with the runner-up as its only
// target it cannot cross within 1.5× the nearest boundary's distance; with two targets it crosses class 2's
// boundary, and its crossing is nearly the closest point of it (FAB is a minimum-norm attack: within the 5%
// overshoot of one step, and within 2% after more); below that distance nothing is fooled, and unfooled
// images keep the clean image.
TEST(Fab, TargetedCrossesTheNearestRankedBoundary) {
  FiveClassLinear lin;
  for (Norm norm : {Norm::Linf, Norm::L2}) {
    SCOPED_TRACE(attacks::norm_name(norm));
    const double nearest = lin.distance(2, norm);
    attacks::FabOptions o;
    o.norm = norm, o.eps = 1.5 * nearest, o.steps = 20, o.targets = 1;
    EXPECT_FALSE(attacks::fab_targeted_attack(*lin.model, lin.image(), {0}, {0}, o).success[0]);
    o.targets = 2;
    const auto two = attacks::fab_targeted_attack(*lin.model, lin.image(), {0}, {0}, o);
    ASSERT_TRUE(two.success[0]);
    EXPECT_EQ(two.predictions[0], 2);
    expect_sound(*lin.model, lin.image(), two, norm, o.eps);
    const double size = lin.perturbation(two, norm);
    EXPECT_GE(size, nearest * (1 - 1e-4));
    EXPECT_LE(size, nearest * 1.06);
    // Its first crossing overshoots by η = 1.05; the steps after it come within 2% of the boundary. (On a
    // linear model the walk gets there with or without the step back, β: that step and the pull towards the
    // image, α, matter only where the linearization is not exact.)
    o.eps = 1.02 * nearest;
    EXPECT_TRUE(attacks::fab_targeted_attack(*lin.model, lin.image(), {0}, {0}, o).success[0]);
    o.eps = 0.9 * nearest, o.targets = 9, o.restarts = 2;
    const auto none = attacks::fab_targeted_attack(*lin.model, lin.image(), {0}, {0}, o);
    EXPECT_FALSE(none.success[0]);
    EXPECT_TRUE(identical(none.adversarial, lin.image()));
  }
  attacks::FabOptions bad;
  bad.steps = 0;
  EXPECT_ERROR_MENTIONS(attacks::fab_targeted_attack(*lin.model, lin.image(), {0}, {0}, bad), "--steps");
}

// Untargeted FAB on the same classifier: without being told, it walks towards class 2, whose boundary is the
// nearest though class 1 has the second logit, and crosses it nearly at its closest point; below that
// distance nothing is fooled and the clean image is kept. On two images at once, each finds its own.
TEST(Fab, UntargetedFindsTheNearestBoundary) {
  FiveClassLinear lin;
  for (Norm norm : {Norm::Linf, Norm::L2}) {
    SCOPED_TRACE(attacks::norm_name(norm));
    const double nearest = lin.distance(2, norm);
    for (int t : {1, 3, 4}) ASSERT_GT(lin.distance(t, norm), 2 * nearest) << "class " << t;
    attacks::FabOptions o;
    o.norm = norm, o.eps = 1.5 * nearest, o.steps = 20;
    const auto r = attacks::fab_attack(*lin.model, lin.image(), {0}, {0}, o);
    ASSERT_TRUE(r.success[0]);
    EXPECT_EQ(r.predictions[0], 2);
    expect_sound(*lin.model, lin.image(), r, norm, o.eps);
    const double size = lin.perturbation(r, norm);
    EXPECT_GE(size, nearest * (1 - 1e-4));
    EXPECT_LE(size, nearest * 1.06);
    o.eps = 0.9 * nearest, o.restarts = 3;
    const auto none = attacks::fab_attack(*lin.model, lin.image(), {0}, {0}, o);
    EXPECT_FALSE(none.success[0]);
    EXPECT_TRUE(identical(none.adversarial, lin.image()));
  }
  // Two images: the clean one and one already past class 2's boundary (misclassified: kept as it is).
  attacks::FabOptions o;
  o.norm = Norm::L2, o.eps = 1.5 * lin.distance(2, Norm::L2), o.steps = 20;
  const Tensor crossed = attacks::fab_attack(*lin.model, lin.image(), {0}, {0}, o).adversarial;
  std::vector<float> both = lin.x0;
  const std::vector<float> c = crossed.to_float_vector();
  both.insert(both.end(), c.begin(), c.end());
  const auto two =
      attacks::fab_attack(*lin.model, Tensor::from_vector(both, {2, 3, 4, 4}), {0, 0}, {0, 1}, o);
  EXPECT_EQ(two.predictions, (std::vector<int64_t>{2, 2}));
  EXPECT_TRUE(identical(two.adversarial.slice(0, 1, 2).contiguous(), crossed));
}

// AutoAttack's schedule of the window's share: halves after 10, 50, 200, … ten-thousandths of the budget.
// DDN on the linear classifier, whose smallest adversarial ℓ2 perturbation has norm margin/‖w‖₂: without
// rounding to 8-bit levels it ends within 6% above that distance and never below it, so it succeeds with
// ε = 1.2× the distance and not with 0.8×, whether its norm budget starts above the distance (1, shrinking)
// or below it (0.01, growing); with rounding, the images it keeps lie on the levels k/255. An
// image misclassified already succeeds with no perturbation; an image not fooled keeps the clean image.
TEST(Ddn, FindsTheLinearBoundaryFromAbove) {
  LinearModel lin;
  const double distance = 0.08;
  const Tensor x = lin.images({distance * lin.l2, distance * lin.l2, distance * lin.l2}, 21);
  const std::vector<float> clean = x.to_float_vector();
  for (const auto& [quantize, init_norm] : {std::pair{false, 1.0}, {true, 1.0}, {false, 0.01}}) {
    for (double factor : {0.8, 1.2}) {
      attacks::DdnOptions o;
      o.eps = factor * distance, o.steps = 100, o.quantize = quantize, o.init_norm = init_norm;
      const auto r = attacks::ddn_attack(*lin.model, x, {1, 1, 0}, o);
      const std::vector<float> adv = r.adversarial.to_float_vector();
      for (int i = 0; i < 3; ++i) {
        std::vector<float> delta(48);
        for (int e = 0; e < 48; ++e) delta[e] = adv[i * 48 + e] - clean[i * 48 + e];
        const double norm = attacks::l2_norm(delta.data(), 48);
        SCOPED_TRACE(testing::Message() << "quantize " << quantize << " first norm " << init_norm << " ε×"
                                        << factor << " image " << i);
        if (i == 2) {  // labelled 0, classified 1: fooled as it is
          EXPECT_TRUE(r.success[i]);
          EXPECT_EQ(norm, 0.0);
          continue;
        }
        EXPECT_EQ(r.success[i], factor > 1);
        if (!r.success[i]) {
          EXPECT_EQ(norm, 0.0);  // the clean image
          EXPECT_EQ(r.predictions[i], 1);
          continue;
        }
        EXPECT_EQ(r.predictions[i], 0);
        EXPECT_GE(norm, distance * (1 - 1e-4));
        if (!quantize) {
          EXPECT_LE(norm, distance * 1.06);
        }
        for (int e = 0; quantize && e < 48; ++e) {
          const double level = adv[i * 48 + e] * 255.0;
          ASSERT_NEAR(level, std::round(level), 1e-3) << "element " << e;
        }
      }
      expect_sound(*lin.model, x, r, Norm::L2, o.eps);
    }
  }
  attacks::DdnOptions bad;
  bad.gamma = 1.5;
  EXPECT_ERROR_MENTIONS(attacks::ddn_attack(*lin.model, x, {1, 1, 1}, bad), "gamma");
  bad = attacks::DdnOptions{};
  bad.init_norm = 0;
  EXPECT_ERROR_MENTIONS(attacks::ddn_attack(*lin.model, x, {1, 1, 1}, bad), "first norm");
  EXPECT_ERROR_MENTIONS(attacks::ddn_attack(*lin.model, x, {1, 1}, attacks::DdnOptions{}), "labels");
}

TEST(Square, ShareFollowsTheSchedule) {
  EXPECT_EQ(attacks::square_share(0.8, 10, 10000), 0.8);
  EXPECT_EQ(attacks::square_share(0.8, 11, 10000), 0.4);
  EXPECT_EQ(attacks::square_share(0.8, 51, 10000), 0.2);
  EXPECT_EQ(attacks::square_share(0.8, 4000, 10000), 0.8 / 64);
  EXPECT_EQ(attacks::square_share(0.8, 4001, 10000), 0.8 / 128);
  EXPECT_EQ(attacks::square_share(0.8, 9999, 10000), 0.8 / 512);
  EXPECT_EQ(attacks::square_share(0.8, 6, 5000), 0.4);  // 12 ten-thousandths
}

// On the 2-class linear classifier the random search, with no gradient, crosses a boundary within ε and never
// one beyond; the loss it reports is the margin at the image it keeps. ℓ∞: the windows reach every vertex of
// the ball, so the best one, −ε·sign(w), too: a boundary at ε/1.5 is found. ℓ2: the sums of the search's
// patterns align with a random, spatially unstructured w only in part (in 1000 queries AutoAttack's own code
// gets 29–44% of the largest decrease ε‖w‖₂ at 3×8×8, 38–41% at 3×16×16; this one 43–50% and 36–41%, on
// this machine), so the boundary is put at ε/3.
TEST(Square, FindsTheLinearBoundaryWithoutGradients) {
  LinearModel lin;
  for (Norm norm : {Norm::Linf, Norm::L2}) {
    SCOPED_TRACE(attacks::norm_name(norm));
    const double dual = norm == Norm::L2 ? lin.l2 : lin.l1, distance = 0.05;
    const Tensor x = lin.images({distance * dual, distance * dual, distance * dual}, 17);
    for (double factor : {0.9, norm == Norm::Linf ? 1.5 : 3.0}) {
      attacks::SquareOptions o;
      o.norm = norm, o.eps = factor * distance, o.queries = 1000, o.seed = 2;
      const auto r = attacks::square_attack(*lin.model, x, {1, 1, 1}, {0, 1, 2}, o);
      EXPECT_EQ(r.success, (std::vector<bool>(3, factor > 1))) << "ε×" << factor;
      expect_sound(*lin.model, x, r, norm, o.eps);
      const std::vector<float> adv = r.adversarial.to_float_vector();
      for (int i = 0; i < 3; ++i) EXPECT_NEAR(r.loss[i], lin.margin(adv.data() + i * 48), 1e-5);
    }
  }
}

// The draws come from (seed, image id): batching changes nothing, the seed does.
TEST(Square, DrawsDependOnTheImageNotTheBatch) {
  auto model = random_classifier("lenet", 3, 32, 10, 4);
  const Tensor x = random_images({4, 3, 32, 32}, 6);
  for (Norm norm : {Norm::Linf, Norm::L2}) {
    attacks::SquareOptions o;
    o.norm = norm, o.eps = norm == Norm::Linf ? 2.0 / 255 : 0.1, o.queries = 6, o.seed = 21;
    const std::vector<int64_t> labels = {0, 1, 2, 3}, ids = {10, 11, 12, 13};
    const auto all = attacks::square_attack(*model, x, labels, ids, o);
    const auto tail = attacks::square_attack(*model, x.slice(0, 2, 4).contiguous(), {2, 3}, {12, 13}, o);
    EXPECT_TRUE(identical(all.adversarial.slice(0, 2, 4).contiguous(), tail.adversarial));
    o.seed = 22;
    EXPECT_FALSE(identical(all.adversarial, attacks::square_attack(*model, x, labels, ids, o).adversarial));
    expect_sound(*model, x, all, norm, o.eps);
  }
  attacks::SquareOptions bad;
  bad.queries = 0;
  EXPECT_ERROR_MENTIONS(attacks::square_attack(*model, x, {0, 1, 2, 3}, {0, 1, 2, 3}, bad), "--queries");
  bad.queries = 5, bad.p_init = 1.5;
  EXPECT_ERROR_MENTIONS(attacks::square_attack(*model, x, {0, 1, 2, 3}, {0, 1, 2, 3}, bad), "--p-init");
}

// Random starts come from (seed, image id, restart): batching changes nothing, the seed does.
TEST(Pgd, RandomStartsDependOnTheImageNotTheBatch) {
  auto model = random_classifier("lenet", 3, 32, 10, 4);
  const Tensor x = random_images({4, 3, 32, 32}, 6);
  attacks::PgdOptions o;
  o.eps = 4.0 / 255, o.steps = 3, o.step_size = 1.0 / 255, o.seed = 21;
  const std::vector<int64_t> labels = {0, 1, 2, 3}, ids = {10, 11, 12, 13};
  const auto all = attacks::pgd_attack(*model, x, labels, ids, o);
  const auto head = attacks::pgd_attack(*model, x.slice(0, 0, 2).contiguous(), {0, 1}, {10, 11}, o);
  const auto tail = attacks::pgd_attack(*model, x.slice(0, 2, 4).contiguous(), {2, 3}, {12, 13}, o);
  EXPECT_TRUE(identical(all.adversarial.slice(0, 0, 2).contiguous(), head.adversarial));
  EXPECT_TRUE(identical(all.adversarial.slice(0, 2, 4).contiguous(), tail.adversarial));
  o.seed = 22;
  const auto other = attacks::pgd_attack(*model, x, labels, ids, o);
  EXPECT_FALSE(identical(all.adversarial, other.adversarial));
  expect_sound(*model, x, all, Norm::Linf, o.eps);
}

TEST(Pgd, BadOptionsAreErrors) {
  LinearModel lin;
  const Tensor x = lin.images({1.0}, 1);
  attacks::PgdOptions o;
  o.eps = 0;
  EXPECT_ERROR_MENTIONS(attacks::pgd_attack(*lin.model, x, {1}, {0}, o), "--eps");
  o.eps = 0.1, o.steps = 0;
  EXPECT_ERROR_MENTIONS(attacks::pgd_attack(*lin.model, x, {1}, {0}, o), "--steps");
  o.steps = 1, o.step_size = NAN;
  EXPECT_ERROR_MENTIONS(attacks::pgd_attack(*lin.model, x, {1}, {0}, o), "--step-size");
  o.step_size = 0.1;
  EXPECT_ERROR_MENTIONS(attacks::pgd_attack(*lin.model, x, {1, 0}, {0}, o), "2 labels");
  EXPECT_ERROR_MENTIONS(attacks::parse_norm("l1"), "unknown norm 'l1'");
}

// On a linear classifier every noisy copy's loss gradient points along −w (for class 1), so SmoothAdv's
// perturbation must end on the ε-sphere exactly against w.
TEST(SmoothAdv, PerturbsAgainstTheLinearDirection) {
  LinearModel lin;
  const Tensor x = lin.images({0.05 * lin.l2, 0.2 * lin.l2}, 7);
  attacks::SmoothAdvOptions o;
  o.eps = 0.1, o.steps = 10, o.m = 8, o.sigma = 0.25, o.seed = 3;
  const auto r = attacks::smoothadv_attack(*lin.model, x, {1, 1}, {0, 1}, o);
  const std::vector<float> clean = x.to_float_vector(), adv = r.adversarial.to_float_vector();
  for (int i = 0; i < 2; ++i) {
    const auto [norm, cosine] = lin.norm_and_cosine_against_w(clean, adv, i);
    EXPECT_NEAR(norm, o.eps, 1e-5) << "image " << i;
    EXPECT_GT(cosine, 0.99999) << "image " << i;
  }
  // The loss went up: p̄ of the true class fell. A budget too small to move gives the loss at x itself under
  // the same noise draws.
  attacks::SmoothAdvOptions still = o;
  still.eps = 1e-12;
  const auto at_x = attacks::smoothadv_attack(*lin.model, x, {1, 1}, {0, 1}, still);
  for (int i = 0; i < 2; ++i) EXPECT_GT(r.loss[i], at_x.loss[i] + 1e-3) << "image " << i;
  // The EOT baseline's gradient on a linear model points the same way: the same perturbation direction.
  attacks::SmoothAdvOptions eot = o;
  eot.loss = attacks::SmoothAdvOptions::Loss::Eot;
  const std::vector<float> by_eot =
      attacks::smoothadv_attack(*lin.model, x, {1, 1}, {0, 1}, eot).adversarial.to_float_vector();
  for (int i = 0; i < 2; ++i) EXPECT_GT(lin.norm_and_cosine_against_w(clean, by_eot, i).second, 0.99999) << i;
  o.m = 0;
  EXPECT_ERROR_MENTIONS(attacks::smoothadv_attack(*lin.model, x, {1, 1}, {0, 1}, o), "--m");
}

// SmoothAdv's DDN form on the linear classifier behind faint noise (σ = 0.001, m = 4 copies: the copies'
// majority moves the boundary by about σ): it ends against w, within 3% below and 6% above the boundary's
// distance when ε allows, and on the ε-sphere when it does not (its smallest adversarial Δ scaled into the
// ball); a misclassified image keeps Δ = 0.
TEST(SmoothAdv, MajorityLabels) {
  EXPECT_EQ(attacks::majority_labels({3, 1, 3, 2, 2, 5, 5, 2, 7, 0, 7, 0}, 3, 4),
            (std::vector<int64_t>{3, 2, 0}));  // 3 twice; 2 over 5 on a tie; 0 over 7 on a tie
  EXPECT_EQ(attacks::majority_labels({4, 9}, 2, 1), (std::vector<int64_t>{4, 9}));
  EXPECT_ERROR_MENTIONS(attacks::majority_labels({1, 2, 3}, 2, 2), "majority_labels");
}

TEST(SmoothAdv, DdnFindsTheLinearBoundary) {
  LinearModel lin;
  const double distance = 0.08;
  const Tensor x = lin.images({distance * lin.l2, distance * lin.l2}, 23);
  const std::vector<float> clean = x.to_float_vector();
  for (double eps : {2 * distance, 0.5 * distance}) {
    attacks::SmoothAdvOptions o;
    o.method = attacks::SmoothAdvOptions::Method::Ddn;
    o.eps = eps, o.steps = 100, o.m = 4, o.sigma = 0.001, o.seed = 5;
    const auto r = attacks::smoothadv_attack(*lin.model, x, {1, 0}, {0, 1}, o);
    const std::vector<float> adv = r.adversarial.to_float_vector();
    for (int i = 0; i < 2; ++i) {
      const auto [norm, cosine] = lin.norm_and_cosine_against_w(clean, adv, i);
      SCOPED_TRACE(testing::Message() << "ε " << eps << " image " << i);
      if (i == 1) {  // labelled 0, classified 1 by every copy
        EXPECT_EQ(norm, 0.0);
        continue;
      }
      if (eps > distance) {
        EXPECT_GT(norm, distance * 0.97);
        EXPECT_LT(norm, distance * 1.06);
      } else {
        EXPECT_NEAR(norm, eps, 1e-6);
      }
      EXPECT_GT(cosine, 0.99);
    }
  }
}

// IBP of one linear layer is exact: over the box the class-1 logit ranges over margin ± ε‖w‖₁ (inside [0,
// 1]).
TEST(IntervalBounds, AreExactForALinearClassifier) {
  LinearModel lin;
  const Tensor x = lin.images({0.5, -0.2}, 14);
  const std::vector<float> clean = x.to_float_vector();
  const Interval b = lin.model->bounds(linf_box(x, 0.01));
  for (int i = 0; i < 2; ++i) {
    const double m = lin.margin(clean.data() + i * 48);
    EXPECT_NEAR(b.lower.data<float>()[2 * i + 1], m - 0.01 * lin.l1, 1e-5);
    EXPECT_NEAR(b.upper.data<float>()[2 * i + 1], m + 0.01 * lin.l1, 1e-5);
    EXPECT_EQ(b.lower.data<float>()[2 * i], 0.0f);  // the zero row
    EXPECT_EQ(b.upper.data<float>()[2 * i], 0.0f);
  }
  EXPECT_ERROR_MENTIONS(lin.model->bounds(linf_box(random_images({1, 3, 5, 5}, 1), 0.1)),
                        "bounds boxes of inputs");
  EXPECT_ERROR_MENTIONS(linf_box(x, -1), "eps must be finite and non-negative");
}

// The OOD scores as objectives: the same values as ood::scores, and gradients that match differences.
TEST(ScoreObjective, MatchesTheScoresAndTheirDifferences) {
  const std::vector<double> z64 = random_logits(6 * 7, 12);
  std::vector<float> z32(z64.begin(), z64.end());
  const std::vector<double> z(z32.begin(), z32.end());
  const Tensor logits = Tensor::from_vector(z32, {6, 7});
  for (ood::Score kind : ood::all_scores())
    for (double t : {1.0, 2.5}) {
      SCOPED_TRACE(ood::score_name(kind) + " T=" + std::to_string(t));
      std::vector<double> value, dz(z.size());
      ood::score_objective(kind, t)(z, 6, 7, value, dz);
      const std::vector<double> want = ood::scores(logits, kind, t);
      for (size_t r = 0; r < want.size(); ++r)
        EXPECT_NEAR(value[r], want[r], 1e-12 * (1 + std::fabs(want[r])));
      expect_gradient_matches_differences(ood::score_objective(kind, t), z, 6, 7);
    }
}

// Over the ball around a point of a linear classifier (away from the box's faces), the largest logit
// w·x + b peaks at margin + ε‖w‖₁ (ℓ∞) or margin + ε‖w‖₂ (ℓ2); ascent (PGD's and APGD's) reaches it and keeps
// the best iterate.
TEST(ScoreAscent, ReachesTheLinearMaximum) {
  LinearModel lin;
  const Tensor x = lin.images({0.3, 1.0, 2.0}, 13);
  const std::vector<float> clean = x.to_float_vector();
  for (Norm norm : {Norm::Linf, Norm::L2}) {
    attacks::PgdOptions o;
    o.norm = norm;
    o.eps = 0.02, o.steps = 8, o.step_size = 0.005, o.restarts = 2, o.seed = 4;
    const auto r =
        attacks::maximize_objective(*lin.model, x, {0, 1, 2}, ood::score_objective(ood::Score::MaxLogit), o);
    const std::vector<float> best = r.best.to_float_vector();
    for (int i = 0; i < 3; ++i) {
      const double peak = lin.margin(clean.data() + i * 48) + o.eps * (norm == Norm::Linf ? lin.l1 : lin.l2);
      EXPECT_NEAR(r.value[i], peak, 1e-4 * peak) << attacks::norm_name(norm) << " image " << i;
      EXPECT_NEAR(lin.margin(best.data() + i * 48), r.value[i], 1e-4 * peak);  // the value is the best's
    }
    // APGD's walk reaches it too (its first step, 2ε, already lands on the maximizing corner or boundary).
    const auto by_apgd = attacks::apgd_maximize_objective(*lin.model, x, {0, 1, 2},
                                                          ood::score_objective(ood::Score::MaxLogit), o);
    const std::vector<float> apgd_best = by_apgd.best.to_float_vector();
    for (int i = 0; i < 3; ++i) {
      const double peak = lin.margin(clean.data() + i * 48) + o.eps * (norm == Norm::Linf ? lin.l1 : lin.l2);
      EXPECT_NEAR(by_apgd.value[i], peak, 1e-4 * peak) << attacks::norm_name(norm) << " image " << i;
      EXPECT_NEAR(lin.margin(apgd_best.data() + i * 48), by_apgd.value[i], 1e-4 * peak);
    }
    // One step of ε/40 cannot reach it, but the value never falls below the image's own.
    o.steps = 1, o.step_size = 0.0005, o.restarts = 1;
    const auto short_run =
        attacks::maximize_objective(*lin.model, x, {0, 1, 2}, ood::score_objective(ood::Score::MaxLogit), o);
    for (int i = 0; i < 3; ++i) {
      EXPECT_GE(short_run.value[i], lin.margin(clean.data() + i * 48) - 1e-5);
      EXPECT_LT(short_run.value[i], r.value[i] - 1e-3);
    }
  }
}

// Monotone PGD's starts: de-contrasting moves each value towards the image's mean by at most ε; the noise
// starts depend on (seed, image, start) alone, uniform ones fill the ball, normal ones have σ.
TEST(MonotonePgd, Starts) {
  attacks::MonotonePgdOptions o;
  o.eps = 0.05, o.seed = 3;
  const std::vector<float> x = {0.0f, 0.1f, 0.5f, 0.52f, 0.9f, 1.0f};  // mean 0.503333
  const std::vector<float> dc =
      attacks::monotone_start(attacks::MonotoneStart::Decontrast, o, x.data(), 6, 7, 0);
  const std::vector<float> want = {0.05f, 0.05f, 0.0033333f, -0.0166667f, -0.05f, -0.05f};
  for (size_t e = 0; e < 6; ++e) EXPECT_NEAR(dc[e], want[e], 1e-6) << e;
  const std::vector<float> many(4000, 0.5f);
  const auto draw = [&](attacks::MonotoneStart kind, uint64_t image, int start) {
    return attacks::monotone_start(kind, o, many.data(), 4000, image, start);
  };
  for (auto kind : {attacks::MonotoneStart::Uniform, attacks::MonotoneStart::Normal}) {
    const std::vector<float> a = draw(kind, 9, 1);
    EXPECT_EQ(a, draw(kind, 9, 1));
    EXPECT_NE(a, draw(kind, 10, 1));
    EXPECT_NE(a, draw(kind, 9, 2));
    double sum = 0, squares = 0, largest = 0;
    for (float v : a) sum += v, squares += double{v} * v, largest = std::max(largest, std::fabs(double{v}));
    const double sd = std::sqrt(squares / 4000 - (sum / 4000) * (sum / 4000));
    if (kind == attacks::MonotoneStart::Uniform) {
      EXPECT_LE(largest, o.eps);
      EXPECT_NEAR(sd, o.eps / std::sqrt(3.0), 0.05 * o.eps);  // U(−ε, ε)
    } else {
      EXPECT_NEAR(sd, o.normal_sigma, 0.05 * o.normal_sigma);
    }
  }
}

// On the linear model's max logit, monotone PGD walks to the corner (ℓ∞) or the boundary point (ℓ2) of the
// ball that maximizes it, from a first rate far too small to get there without the rate's gain.
TEST(MonotonePgd, ReachesTheLinearMaximum) {
  LinearModel lin;
  const Tensor x = lin.images({0.3, 1.0, 2.0}, 13);
  const std::vector<float> clean = x.to_float_vector();
  for (Norm norm : {Norm::Linf, Norm::L2}) {
    attacks::MonotonePgdOptions o;
    o.norm = norm, o.eps = 0.02, o.steps = 200, o.step_size = 1e-7, o.seed = 4;
    const auto r = attacks::monotone_pgd_maximize(*lin.model, x, {0, 1, 2},
                                                  ood::score_objective(ood::Score::MaxLogit), o);
    const std::vector<float> best = r.best.to_float_vector();
    for (int i = 0; i < 3; ++i) {
      const double peak = lin.margin(clean.data() + i * 48) + o.eps * (norm == Norm::Linf ? lin.l1 : lin.l2);
      EXPECT_NEAR(r.value[i], peak, 1e-4 * peak) << attacks::norm_name(norm) << " image " << i;
      EXPECT_NEAR(lin.margin(best.data() + i * 48), r.value[i], 1e-4 * peak);
    }
    // Without the gain, 200 steps of that rate stay near the starts.
    o.gain = 1.0;
    const auto slow = attacks::monotone_pgd_maximize(*lin.model, x, {0, 1, 2},
                                                     ood::score_objective(ood::Score::MaxLogit), o);
    for (int i = 0; i < 3; ++i) EXPECT_LT(slow.value[i], r.value[i] - 0.01);
  }
}

// A step that lowers the objective is undone and halves the rate: on f = −(m − c)², m the linear model's
// margin and c inside the ball's reach, a first rate 1,000 times too large still ends at the peak f = 0
// (every overshoot rejected until the rate fits). With the decay off (1), the walk never gets there, and
// with no steps the value is the best of the image and the starts.
TEST(MonotonePgd, RejectsStepsThatLowerTheObjective) {
  LinearModel lin;
  const Tensor x = lin.images({0.5}, 17);
  const double m0 = lin.margin(x.to_float_vector().data()), c = m0 + 0.01 * lin.l1;
  const attacks::LogitsLoss peaked = [c](const std::vector<double>& z, int64_t rows, int64_t classes,
                                         std::vector<double>& loss, std::vector<double>& dz) {
    loss.assign(static_cast<size_t>(rows), 0.0);
    std::fill(dz.begin(), dz.end(), 0.0);
    for (int64_t r = 0; r < rows; ++r) {
      const double m = z[static_cast<size_t>(r * classes + 1)];  // class 0's logit is 0
      loss[static_cast<size_t>(r)] = -(m - c) * (m - c);
      dz[static_cast<size_t>(r * classes + 1)] = -2 * (m - c);
    }
  };
  attacks::MonotonePgdOptions o;
  o.eps = 0.02, o.steps = 60, o.step_size = 1.0;
  const auto r = attacks::monotone_pgd_maximize(*lin.model, x, {0}, peaked, o);
  EXPECT_GT(r.value[0], -1e-6);
  EXPECT_NEAR(lin.margin(r.best.to_float_vector().data()), c, 1e-3);
  o.decay = 1.0;
  EXPECT_LT(attacks::monotone_pgd_maximize(*lin.model, x, {0}, peaked, o).value[0], -1e-4);
  o.steps = 0, o.decay = 0.5;
  const auto none = attacks::monotone_pgd_maximize(*lin.model, x, {0}, peaked, o);
  EXPECT_GE(none.value[0], -(m0 - c) * (m0 - c) - 1e-9);  // the image itself is among the candidates
  EXPECT_LT(none.value[0], -1e-4);
  o.starts.clear();
  EXPECT_ERROR_MENTIONS(attacks::monotone_pgd_maximize(*lin.model, x, {0}, peaked, o), "no starts");
}

}  // namespace
}  // namespace sc::test
