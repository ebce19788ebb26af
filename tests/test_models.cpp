// Classifiers built from smoothcuda model files reproduce PyTorch's logits; loading is strict.
#include "io/safetensors.h"
#include "nn/models/model_file.h"
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

}  // namespace
}  // namespace sc::test
