// The diffusion UNets: every key and shape of the public checkpoints (../shared/reference/*.keys.txt) maps, and the
// forward pass matches the reference implementation on random weights (fixtures made from the public code).
#include <filesystem>
#include <fstream>
#include <sstream>

#include "diffusion/unet.h"
#include "io/safetensors.h"
#include "nn/state_dict.h"
#include "weights_tools/torch_checkpoint.h"
#include "test_util.h"

namespace sc::test {
namespace {

// "name (d0, d1, ...)" lines → (name, shape); the last line "NUM_TENSORS n NUM_PARAMS p" gives the totals.
std::vector<std::pair<std::string, Shape>> read_keys(const std::string& path, int64_t* num_params) {
  std::ifstream in(path);
  std::vector<std::pair<std::string, Shape>> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    if (line.rfind("NUM_TENSORS", 0) == 0) {
      *num_params = std::stoll(line.substr(line.find("NUM_PARAMS") + 11));
      EXPECT_EQ(std::stoll(line.substr(12)), static_cast<int64_t>(out.size()));
      continue;
    }
    const size_t sp = line.find(' ');
    Shape s;
    std::string dims = line.substr(sp + 2, line.size() - sp - 3);
    std::stringstream ss(dims);
    for (std::string d; std::getline(ss, d, ',');)
      if (d.find_first_not_of(' ') != std::string::npos) s.push_back(std::stoll(d));
    out.emplace_back(line.substr(0, sp), s);
  }
  return out;
}

void expect_keys_match(UNet& net, const std::string& keys_file) {
  if (!std::filesystem::exists(keys_file)) GTEST_SKIP() << "no " << keys_file;
  int64_t num_params = -1, ours_params = 0;
  const auto expected = read_keys(keys_file, &num_params);
  const auto ours = net.named_tensors();
  for (const auto& [k, t] : ours) ours_params += t->numel();
  EXPECT_EQ(ours_params, num_params);
  EXPECT_EQ(net.config().parameter_count(), num_params);  // counted without building
  ASSERT_EQ(ours.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(ours[i].first, expected[i].first) << "tensor " << i;
    EXPECT_EQ(ours[i].second->shape(), expected[i].second) << expected[i].first;
  }
}

TEST(UNet, ImprovedDiffusionCifar10KeysAndShapes) {
  const auto cfg = UNetConfig::from_flags(
      "iddpm_unet", {{"image_size", "32"}, {"num_channels", "128"}, {"num_res_blocks", "3"}, {"learn_sigma", "True"},
                     {"dropout", "0.3"}, {"diffusion_steps", "4000"}, {"noise_schedule", "cosine"}});
  UNet net(cfg);
  expect_keys_match(net, shared_dir() + "/reference/cifar10_uncond_50M_500K.keys.txt");
}

TEST(UNet, GuidedDiffusion256KeysAndShapes) {
  const auto cfg = UNetConfig::from_flags(
      "adm_unet", {{"image_size", "256"}, {"num_channels", "256"}, {"num_res_blocks", "2"}, {"learn_sigma", "True"},
                   {"attention_resolutions", "32,16,8"}, {"num_head_channels", "64"}, {"resblock_updown", "True"},
                   {"use_scale_shift_norm", "True"}, {"diffusion_steps", "1000"}, {"noise_schedule", "linear"}});
  UNet net(cfg);
  expect_keys_match(net, shared_dir() + "/reference/256x256_diffusion_uncond.keys.txt");
}

// Narrow configs of both references, every parameter randomized, against the reference code run in float64.
class UNetReference : public ::testing::TestWithParam<std::string> {};

TEST_P(UNetReference, ForwardMatchesTheReferenceImplementation) {
  const std::string base = fixture_dir() + "/checkpoints/" + GetParam();
  const io::Safetensors io = io::read_safetensors(base + ".io.safetensors");
  std::map<std::string, std::string> flags = io.metadata;
  const std::string arch = flags.at("arch");
  flags.erase("arch");
  UNet net(UNetConfig::from_flags(arch, flags));
  auto ckpt = torchfile::read_checkpoint(base + ".pt");
  load_state_dict(net, torchfile::extract_state_dict(ckpt), base + ".pt");
  const Tensor out = net.forward(io.at("x"), io.at("t"));
  EXPECT_TRUE(allclose(out, io.at("out"), 1e-4));
}

INSTANTIATE_TEST_SUITE_P(Narrow, UNetReference, ::testing::Values("iddpm_narrow", "iddpm_narrow_plain", "adm_narrow"),
                         [](const auto& info) { return info.param; });

// parameter_count() walks the same layout the constructor builds, without building: equal on configs that
// change every term (skip convolutions, scale-shift, learned sigma, resampling ResBlocks, head channels).
TEST(UNet, ParameterCountWithoutBuildingMatchesTheBuiltNetwork) {
  const std::map<std::string, std::string> configs[] = {
      {{"image_size", "8"},
       {"num_channels", "32"},
       {"num_res_blocks", "1"},
       {"channel_mult", "1,3"},
       {"attention_resolutions", "4"},
       {"learn_sigma", "False"},
       {"use_scale_shift_norm", "False"},
       {"in_channels", "1"}},
      {{"image_size", "16"},
       {"num_channels", "32"},
       {"num_res_blocks", "2"},
       {"channel_mult", "2,1,2"},
       {"attention_resolutions", "8,4"},
       {"num_head_channels", "16"},
       {"resblock_updown", "True"}},
      {{"image_size", "16"},
       {"num_channels", "64"},
       {"num_res_blocks", "1"},
       {"channel_mult", "1"},
       {"attention_resolutions", ""},
       {"in_channels", "5"}},
  };
  for (const auto& flags : configs) {
    const UNetConfig cfg = UNetConfig::from_flags("adm_unet", flags);
    UNet net(cfg);
    int64_t built = 0;
    for (const auto& [key, t] : net.named_tensors()) built += t->numel();
    EXPECT_EQ(cfg.parameter_count(), built) << cfg.to_flags().at("channel_mult");
  }
}

TEST(UNet, BadFlagsAreNamed) {
  EXPECT_ERROR_MENTIONS(UNetConfig::from_flags("iddpm_unet", {{"num_chanels", "128"}}), "--num_chanels");
  EXPECT_ERROR_MENTIONS(UNetConfig::from_flags("iddpm_unet", {{"learn_sigma", "maybe"}}), "True or False");
  EXPECT_ERROR_MENTIONS(UNetConfig::from_flags("iddpm_unet", {{"image_size", "48"}}), "channel_mult");
  // Numbers a corrupt model file could hold: refused before anything is allocated or divided by.
  const std::pair<const char*, const char*> bad[] = {
      {"num_channels", "4294967296"},
      {"num_channels", "0"},
      {"num_heads", "0"},
      {"num_res_blocks", "-3"},
      {"in_channels", ""},
      {"in_channels", "100000"},
      {"dropout", "1.5"},
      {"dropout", "x"},
      {"image_size", "99999999999999999999"},
  };
  for (const auto& [flag, value] : bad) {
    SCOPED_TRACE(std::string(flag) + "=" + value);
    EXPECT_ERROR_MENTIONS(UNetConfig::from_flags("iddpm_unet", {{flag, value}}), flag);
  }
  EXPECT_ERROR_MENTIONS(UNetConfig::from_flags("adm_unet", {{"channel_mult", "1,0,2"}}), "--channel_mult");
}

}  // namespace
}  // namespace sc::test
