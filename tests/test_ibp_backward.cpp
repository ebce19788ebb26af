// Backward through interval bounds (Module::bounds_backward, for IBP training) against PyTorch autograd in
// float64 on the same bounds (tests/fixtures/ops/ibp.safetensors, make_fixtures.py ibp_cases): LeNet with a
// channel normalization, an MLP, a Sequential with average and global average pools, and ProoD's CNN_IBP XS
// detector (prood_xs, its last layer −exp(W)). For L = Σ a·lower_out + b·upper_out: the output bounds, every
// parameter's gradient and the input box's; for prood_xs also the logits.
#include <algorithm>
#include <cmath>

#include "kernels/elementwise.h"
#include "nn/interval.h"
#include "nn/layers.h"
#include "test_util.h"
#include "weights_tools/convert.h"

namespace sc::test {
namespace {

std::unique_ptr<Classifier> fixture_network(const FixtureCase& c) {
  const std::vector<int64_t> shape = c.ints_param("shape");
  ModelSpec spec;
  spec.channels = shape[0], spec.height = shape[1], spec.width = shape[2];
  spec.num_classes = c.int_param("classes");
  std::unique_ptr<Classifier> model;
  if (c.name == "avgpool") {
    spec.arch = "avgpool";
    auto net = std::make_unique<Sequential>();
    net->emplace<Conv2d>("0", 3, 5, 3, Conv2dParams::square(2, 1));
    net->emplace<ReLU>("1");
    net->emplace<AvgPool2d>("2", Pool2dParams::square(2, 2));
    net->emplace<Conv2d>("3", 5, 4, 1);
    net->emplace<ReLU>("4");
    net->emplace<GlobalAvgPool>("5");
    net->emplace<Linear>("6", 4, 3);
    model = std::make_unique<Classifier>(spec, std::move(net));
  } else {
    spec.arch = c.name;
    if (c.name == "mlp") spec.flags["hidden"] = "16";
    if (c.name == "prood_xs") {
      EXPECT_EQ(make_spec("prood_xs", {}, "test").mean.size(), 0u);  // raw images
    }
    const Tensor mean = c.get("mean"), std = c.get("std");
    if (mean.defined()) spec.mean = mean.to_float_vector(), spec.std = std.to_float_vector();
    model = build_model(spec);
  }
  for (auto& [key, t] : model->named_tensors()) {
    if (key.empty()) continue;  // the normalization's constants
    *t = c.at("param." + key).clone();
  }
  return model;
}

TEST(IbpBackward, MatchesPyTorchAutogradInDouble) {
  for (const FixtureCase& c : load_fixture("ibp")) {
    SCOPED_TRACE(c.name);
    auto model = fixture_network(c);
    ParameterGradients grads;
    Interval out, box;
    {
      RecordForBackward record;
      AccumulateParameterGradients into(grads);
      out = model->bounds({c.at("lower"), c.at("upper")});
      box = model->bounds_backward({c.at("a"), c.at("b")});
    }
    if (c.get("logits").defined()) {
      EXPECT_TRUE(allclose(model->forward(c.at("x")), c.at("logits"), 1e-5));
    }
    // A bound is c ± r in float32: its error scales with the box's size, not with the bound (prood_xs's
    // random weights give lower bounds near −6,500 and upper bounds of 0.08, from c ≈ −3,254 and r ≈ 3,254).
    const std::vector<float> lo = c.at("out_lower").to_float_vector(),
                             up = c.at("out_upper").to_float_vector();
    double scale = 0;
    for (size_t k = 0; k < lo.size(); ++k)
      scale = std::max({scale, std::fabs(double{lo[k]}), std::fabs(double{up[k]})});
    const std::vector<float> got_lo = out.lower.to_float_vector(), got_up = out.upper.to_float_vector();
    ASSERT_EQ(got_lo.size(), lo.size());
    ASSERT_EQ(got_up.size(), up.size());
    for (size_t k = 0; k < lo.size(); ++k) {
      EXPECT_NEAR(got_lo[k], lo[k], 1e-5 * scale) << k;
      EXPECT_NEAR(got_up[k], up[k], 1e-5 * scale) << k;
    }
    EXPECT_TRUE(allclose(box.lower, c.at("grad_lower"), 1e-4));
    EXPECT_TRUE(allclose(box.upper, c.at("grad_upper"), 1e-4));
    int checked = 0;
    for (auto& [key, t] : model->named_tensors()) {
      if (key.empty()) continue;
      SCOPED_TRACE(key);
      const Tensor* g = grads.find(*t);
      ASSERT_NE(g, nullptr);
      EXPECT_TRUE(allclose(*g, c.at("grad." + key), 1e-4));
      ++checked;
    }
    EXPECT_GE(checked, 6);
  }
}

// ProoD's LinearI_Neg is a Linear layer of weights −exp(W): the same outputs and input gradients as that
// Linear, and W's gradient is the Linear's weight gradient times −exp(W).
TEST(NegExpLinear, IsALinearLayerOfWeightsMinusExpW) {
  NegExpLinear neg(5, 3);
  Linear plain(5, 3);
  neg.weight = randn({3, 5}, 1, 0.5f), neg.bias = randn({3}, 2);
  std::vector<float> w = neg.weight.to_float_vector();
  for (float& v : w) v = -std::exp(v);
  plain.weight = Tensor::from_vector(w, {3, 5}), plain.bias = neg.bias.clone();
  const Tensor x = randn({4, 5}, 3), dy = randn({4, 3}, 4);
  ParameterGradients gn, gp;
  Tensor yn, yp, dxn, dxp;
  {
    RecordForBackward record;
    AccumulateParameterGradients into(gn);
    yn = neg.forward(x);
    dxn = neg.backward(dy);
  }
  {
    RecordForBackward record;
    AccumulateParameterGradients into(gp);
    yp = plain.forward(x);
    dxp = plain.backward(dy);
  }
  EXPECT_TRUE(identical(yn, yp));
  EXPECT_TRUE(identical(dxn, dxp));
  ASSERT_NE(gn.find(neg.weight), nullptr);
  ASSERT_NE(gn.find(neg.bias), nullptr);
  EXPECT_TRUE(allclose(*gn.find(neg.weight), ops::mul(*gp.find(plain.weight), plain.weight), 1e-6));
  EXPECT_TRUE(identical(*gn.find(neg.bias), *gp.find(plain.bias)));
  NamedTensors keys;
  neg.collect("L5", keys);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].first, "L5.weight");
  EXPECT_EQ(keys[1].first, "L5.bias");
}

TEST(IbpBackward, NeedsARecordedBoundsPassAndSupportedLayers) {
  auto model = random_classifier("linear", 3, 5, 2, 1);
  const Tensor x = random_images({2, 3, 5, 5}, 2);
  model->bounds(linf_box(x, 0.01));  // not recorded
  EXPECT_ERROR_MENTIONS(model->bounds_backward({randn({2, 2}, 3), randn({2, 2}, 4)}), "Linear",
                        "recorded forward");
  // A layer with bounds but no backward through them (every layer of the zoo has one) is named.
  struct BoundsOnly : Module {
    Tensor forward(const Tensor& t) override { return t; }
    Interval bounds(const Interval& b) override { return b; }
    std::string name() const override { return "BoundsOnly"; }
  };
  Sequential net;
  net.emplace<ReLU>("0");
  net.emplace<BoundsOnly>("1");
  {
    RecordForBackward record;
    net.bounds(linf_box(x, 0.01));
    EXPECT_ERROR_MENTIONS(net.bounds_backward(linf_box(x, 0.01)), "BoundsOnly",
                          "no backward through its interval bounds");
  }
}

}  // namespace
}  // namespace sc::test
