// Backward through interval bounds (Module::bounds_backward, for IBP training) against PyTorch autograd in
// float64 on the same bounds (tests/fixtures/ops/ibp.safetensors, make_fixtures.py ibp_cases): LeNet with a
// channel normalization, an MLP, and a Sequential with average and global average pools. For
// L = Σ a·lower_out + b·upper_out: the output bounds, every parameter's gradient and the input box's.
#include "nn/interval.h"
#include "nn/layers.h"
#include "test_util.h"

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
    EXPECT_TRUE(allclose(out.lower, c.at("out_lower"), 1e-5));
    EXPECT_TRUE(allclose(out.upper, c.at("out_upper"), 1e-5));
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

TEST(IbpBackward, NeedsARecordedBoundsPassAndSupportedLayers) {
  auto model = random_classifier("linear", 3, 5, 2, 1);
  const Tensor x = random_images({2, 3, 5, 5}, 2);
  model->bounds(linf_box(x, 0.01));  // not recorded
  EXPECT_ERROR_MENTIONS(model->bounds_backward({randn({2, 2}, 3), randn({2, 2}, 4)}), "Linear",
                        "recorded forward");
  auto resnet = random_classifier("cifar_resnet20", 3, 32, 10, 5);
  {
    RecordForBackward record;
    resnet->bounds(linf_box(random_images({1, 3, 32, 32}, 6), 1e-6));
    EXPECT_ERROR_MENTIONS(resnet->bounds_backward({randn({1, 10}, 7), randn({1, 10}, 8)}),
                          "no backward through its interval bounds");
  }
}

}  // namespace
}  // namespace sc::test
