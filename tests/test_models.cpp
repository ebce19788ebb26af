// Classifiers built from smoothcuda model files reproduce PyTorch's logits; loading is strict. Every
// architecture's backward pass can repeat from one recorded forward pass.
#include <cmath>

#include "io/safetensors.h"
#include "nn/models/denoisers.h"
#include "nn/models/model_file.h"
#include "nn/models/random_init.h"
#include "nn/state_dict.h"
#include "test_util.h"

namespace sc::test {
namespace {

class ModelFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(ModelFixture, LogitsMatchPyTorch) {
  const std::string dir = fixture_dir() + "/models/";
  auto model = load_model(dir + GetParam() + ".safetensors");
  const io::Safetensors io = io::read_safetensors(dir + GetParam() + ".io.safetensors");
  const Tensor logits = model->forward(io.at("x"));
  EXPECT_TRUE(allclose(logits, io.at("logits"), 1e-5));
}

INSTANTIATE_TEST_SUITE_P(Small, ModelFixture, ::testing::Values("lenet_28", "lenet_32", "mlp_5x5", "linear_2class"));

TEST(ModelFile, SpecRoundTripsThroughMetadata) {
  ModelSpec s;
  s.arch = "mlp";
  s.num_classes = 7;
  s.channels = 3;
  s.height = 5;
  s.width = 4;
  s.mean = {0.1f, 0.2f, 0.3f};
  s.std = {0.5f, 0.25f, 0.125f};
  s.flags["hidden"] = "9";
  const ModelSpec back = spec_from_metadata(spec_to_metadata(s), "test");
  EXPECT_EQ(back.arch, "mlp");
  EXPECT_EQ(back.num_classes, 7);
  EXPECT_EQ(back.height, 5);
  EXPECT_EQ(back.width, 4);
  EXPECT_EQ(back.mean, s.mean);
  EXPECT_EQ(back.std, s.std);
  EXPECT_EQ(back.flags.at("hidden"), "9");
}

TEST(ModelFile, SaveLoadRoundTrip) {
  auto model = load_model(fixture_dir() + "/models/lenet_32.safetensors");
  const std::string p = temp_path("lenet_copy.safetensors");
  save_model(p, *model);
  auto copy = load_model(p);
  const Tensor x = io::read_safetensors(fixture_dir() + "/models/lenet_32.io.safetensors").at("x");
  EXPECT_TRUE(allclose(copy->forward(x), model->forward(x), 0));
}

TEST(ModelFile, StrictLoadingNamesTheProblem) {
  const std::string src = fixture_dir() + "/models/lenet_28.safetensors";
  const io::Safetensors st = io::read_safetensors(src);
  auto write_variant = [&](const std::string& name, StateDict tensors) {
    const std::string p = temp_path(name);
    io::write_safetensors(p, tensors, st.metadata);
    return p;
  };
  StateDict missing(st.tensors.begin() + 1, st.tensors.end());
  EXPECT_ERROR_MENTIONS(load_model(write_variant("missing.safetensors", missing)), "missing key 'conv1.weight'",
                        "[6, 1, 5, 5]");
  StateDict extra = st.tensors;
  extra.emplace_back("head.weight", randn({2, 2}, 1));
  EXPECT_ERROR_MENTIONS(load_model(write_variant("extra.safetensors", extra)), "unexpected key", "'head.weight'");
  StateDict wrong = st.tensors;
  wrong[0].second = randn({6, 1, 3, 3}, 2);
  EXPECT_ERROR_MENTIONS(load_model(write_variant("wrong.safetensors", wrong)), "conv1.weight", "[6, 1, 3, 3]",
                        "[6, 1, 5, 5]");
  const std::string plain = temp_path("plain.safetensors");
  io::write_safetensors(plain, st.tensors);
  EXPECT_ERROR_MENTIONS(load_model(plain), "not a smoothcuda model file", "convert");
  ModelSpec bad;
  bad.arch = "resnet9000";
  EXPECT_ERROR_MENTIONS(build_model(bad), "unknown architecture 'resnet9000'", "lenet");
}

TEST(ModelFile, InputShapeIsChecked) {
  auto model = load_model(fixture_dir() + "/models/lenet_28.safetensors");
  EXPECT_ERROR_MENTIONS(model->forward(randn({2, 3, 28, 28}, 1)), "expects inputs [N, 1, 28, 28]");
}

// Backward passes leave what the recorded forward saved as it was (LogitsAt relies on it: one forward pass,
// then a backward pass per loss). For every architecture, with random weights on small images: dy₁, dy₂ and
// dy₁ again from one recorded forward pass give, bit for bit, what a fresh recorded forward gives for each.
// A backward pass that consumed or overwrote its saved tensors (an in-place ReLU mask, a moved buffer)
// would change the second or third gradient.
void expect_backward_repeats(Classifier& model, const Tensor& x) {
  Tensor y;
  {
    RecordForBackward record;
    y = model.forward(x);
  }
  const Tensor dy1 = randn(y.shape(), 21), dy2 = randn(y.shape(), 22);
  const Tensor first = model.backward(dy1), second = model.backward(dy2), again = model.backward(dy1);
  EXPECT_TRUE(identical(again, first)) << model.name() << ": the third backward pass differs from the first";
  EXPECT_FALSE(identical(second, first)) << model.name() << ": two gradients that should differ agree";
  {
    RecordForBackward record;
    model.forward(x);
  }
  EXPECT_TRUE(identical(model.backward(dy2), second))
      << model.name() << ": the second backward pass differs from a fresh one";
}

TEST(EveryArch, BackwardRepeatsFromOneRecordedForward) {
  for (const std::string& arch : model_archs()) {
    if (arch == "aka_resnet1202" || arch == "wrn28_10") continue;  // the same blocks as smaller nets, slowly
    SCOPED_TRACE(arch);
    const int64_t size = arch.rfind("resnet", 0) == 0 ? 32 : 16;  // torchvision's need 32×32 at least
    ModelSpec spec;
    spec.arch = arch;
    spec.height = spec.width = size;
    if (is_denoiser_arch(arch)) spec.num_classes = 0;
    if (arch == "vit" || arch == "beit" || arch == "timm_vit")
      spec.flags = {{"patch", "4"}, {"dim", "12"}, {"depth", "2"}, {"heads", "3"}, {"mlp", "20"}};
    auto model = build_model(spec);
    randomize_parameters(*model, 5);
    expect_backward_repeats(*model, random_images({2, 3, size, size}, 6));
  }
}

TEST(EveryArch, BackwardRepeatsThroughADenoiser) {
  ModelSpec spec;
  spec.arch = "dncnn", spec.num_classes = 0, spec.height = spec.width = 16;
  spec.flags = {{"depth", "4"}, {"width", "8"}};
  auto denoiser = build_model(spec);
  randomize_parameters(*denoiser, 7);
  auto classifier = random_classifier("lenet", 3, 16, 10, 8);
  auto composed = denoised_network(*denoiser, *classifier);
  expect_backward_repeats(*composed, random_images({2, 3, 16, 16}, 9));
}

// Upsample2x: each value fills its 2×2 block, and backward is the exact adjoint, ⟨dy, up(x)⟩ = ⟨up*(dy), x⟩,
// on an odd shape; its bounds are the upsampled bounds.
TEST(Upsample2x, ForwardFillsBlocksAndBackwardIsItsAdjoint) {
  Upsample2x up;
  const Tensor x = randn({2, 3, 5, 3}, 41);
  Tensor y;
  {
    RecordForBackward record;
    y = up.forward(x);
  }
  ASSERT_EQ(y.shape(), Shape({2, 3, 10, 6}));
  const std::vector<float> xv = x.to_float_vector(), yv = y.to_float_vector();
  for (int64_t p = 0; p < 6; ++p)
    for (int64_t i = 0; i < 10; ++i)
      for (int64_t j = 0; j < 6; ++j)
        EXPECT_EQ(yv[static_cast<size_t>((p * 10 + i) * 6 + j)],
                  xv[static_cast<size_t>((p * 5 + i / 2) * 3 + j / 2)]);
  const Tensor dy = randn(y.shape(), 42), dx = up.backward(dy);
  ASSERT_EQ(dx.shape(), x.shape());
  double lhs = 0, rhs = 0;
  const std::vector<float> dyv = dy.to_float_vector(), dxv = dx.to_float_vector();
  for (size_t k = 0; k < yv.size(); ++k) lhs += double{dyv[k]} * yv[k];
  for (size_t k = 0; k < xv.size(); ++k) rhs += double{dxv[k]} * xv[k];
  EXPECT_NEAR(lhs, rhs, 1e-5 * (std::fabs(lhs) + 1));
  const Interval b = up.bounds(linf_box(random_images({1, 1, 3, 3}, 43), 0.1));
  EXPECT_EQ(b.lower.shape(), Shape({1, 1, 6, 6}));
  EXPECT_TRUE(identical(b.upper, up.forward(linf_box(random_images({1, 1, 3, 3}, 43), 0.1).upper)));
}

}  // namespace
}  // namespace sc::test
