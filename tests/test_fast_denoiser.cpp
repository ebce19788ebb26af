// The fast denoiser (engine/fast_denoiser.h) against the generic one-shot denoiser (itself checked against
// the reference code): both narrow improved-diffusion configurations (scale-shift norm and the plain
// embedding add, attention heads of 32 and 16 channels) and the narrow guided-diffusion one (resampling
// ResBlocks), every precision, and the engine choice.
#include <algorithm>
#include <cmath>

#include "diffusion/denoised_classifier.h"
#include "engine/fast_denoiser.h"
#include "kernels/argmax.h"
#include "kernels/resize_bicubic.h"
#include "nn/models/model_file.h"
#include "test_util.h"

namespace sc::test {
namespace {

double max_abs_diff(const Tensor& a, const Tensor& b) {
  const std::vector<float> x = a.to_float_vector(), y = b.to_float_vector();
  double d = 0;
  for (size_t i = 0; i < x.size(); ++i) d = std::max(d, std::abs(static_cast<double>(x[i]) - y[i]));
  return d;
}

class FastDenoiserTest : public ::testing::TestWithParam<std::string> {};

TEST_P(FastDenoiserTest, MatchesTheGenericOneShotDenoiser) {
  DiffusionModel m = narrow_diffusion_model(GetParam());
  const double sigma = 0.25;
  const int64_t side = m.unet->config().image_size;
  // Noisy images around [0, 1]; one at 64×64 (adm_narrow), where the CPU's reduced precisions are slow.
  const Tensor x = random_images({side > 32 ? 1 : 3, 3, side, side}, 7, sigma);
  const Tensor expected = denoise_one_shot(m, x, sigma);
  // Precision: fp32 is the same math; reduced precisions round activations (outputs are in [0, 1]).
  const std::pair<Precision, double> cases[] = {
      {Precision::FP32, 2e-5}, {Precision::TF32, 1e-2}, {Precision::BF16, 6e-2}, {Precision::FP16, 1e-2}};
  for (const auto& [precision, tol] : cases) {
    SCOPED_TRACE(precision_name(precision));
    FastDenoiser fast(m, sigma, precision);
    const Tensor got = fast.denoise(x);
    ASSERT_EQ(got.shape(), expected.shape());
    const double diff = max_abs_diff(got, expected);
    EXPECT_LE(diff, tol);
    if (precision != Precision::FP32) {
      EXPECT_GT(diff, 0.0);  // the precision is really applied
    }
    EXPECT_TRUE(allclose(fast.denoise(x), got, 0.0));  // deterministic, buffers reused safely
  }
}

// adm_narrow: guided-diffusion's resampling ResBlocks (resblock_updown) and 16-channel heads, at 64×64.
INSTANTIATE_TEST_SUITE_P(Narrow, FastDenoiserTest,
                         ::testing::Values("iddpm_narrow", "iddpm_narrow_plain", "adm_narrow"));

// The image's 3 channels are padded with zeros for the first convolution where tensor cores take it (the
// results above are unchanged but for the sums' order).
TEST(FastDenoiser, PadsTheFirstConvolutionsChannelsForTensorCores) {
  DiffusionModel m = narrow_diffusion_model("iddpm_narrow");
  ASSERT_EQ(m.unet->config().in_channels, 3);
  const std::pair<Precision, int64_t> expected[] = {
      {Precision::FP32, 3}, {Precision::TF32, 4}, {Precision::BF16, 8}, {Precision::FP16, 8}};
  for (const auto& [precision, channels] : expected)
    EXPECT_EQ(FastDenoiser(m, 0.25, precision).input_channels(), channels) << precision_name(precision);
}

// The fallback for what the fast path cannot run (attention heads of other widths on CUDA) is in
// tests/gpu/test_fast_path_gpu.cpp; on the CPU every UNet lowers.
TEST(FastDenoiser, EngineChoiceAndNotes) {
  std::string note;
  DiffusionModel adm = narrow_diffusion_model("adm_narrow");
  EXPECT_NE(make_fast_denoiser(adm, 0.25, "fast", Precision::FP32, note), nullptr);
  EXPECT_EQ(denoiser_flops_per_sample(adm, 40, 56),
            FastDenoiser(adm, 0.25, Precision::FP32).flops_per_sample(40, 56));
  DiffusionModel m = narrow_diffusion_model("iddpm_narrow");
  EXPECT_EQ(make_fast_denoiser(m, 0.25, "generic", Precision::FP32, note), nullptr);
  EXPECT_NE(make_fast_denoiser(m, 0.25, "auto", Precision::FP32, note), nullptr);
  EXPECT_EQ(note, "fast denoiser (fp32)");
}

// The 52M CIFAR-10 denoiser's work per sample: 8.1297 G multiply-adds in its convolutions (3.54 M of them in the
// variance half of the last one, which is not computed) and 0.2497 G in the attention products (counted with
// forward hooks on a PyTorch copy of the architecture).
TEST(FastDenoiser, CountsTheWorkPerSample) {
  DiffusionModel m = build_diffusion_model(
      "iddpm_unet", {{"image_size", "32"}, {"num_channels", "128"}, {"num_res_blocks", "3"}, {"learn_sigma", "True"},
                     {"diffusion_steps", "4000"}, {"noise_schedule", "cosine"}},
      "test");
  FastDenoiser fast(m, 0.25, Precision::FP32);
  EXPECT_NEAR(fast.flops_per_sample(32, 32) / 2, 8.1297408e9 - 3.538944e6 + 0.24969216e9, 1.0);
  EXPECT_EQ(denoiser_flops_per_sample(m, 32, 32), fast.flops_per_sample(32, 32));  // counted without lowering
}

// guided-diffusion's resampling ResBlocks and attention by downsampling rate, at its training size and on
// smaller non-square inputs: 2·multiply-adds counted with forward hooks on the convolutions (less the
// variance half of the last) and the attention products of openai/guided-diffusion's own UNet in PyTorch.
TEST(FastDenoiser, CountsTheWorkAtAnyInputSize) {
  DiffusionModel adm = narrow_diffusion_model("adm_narrow");
  EXPECT_NEAR(denoiser_flops_per_sample(adm, 64, 64), 4185128960.0, 1.0);
  EXPECT_NEAR(denoiser_flops_per_sample(adm, 40, 56), 2068398080.0, 1.0);
}

// The denoiser runs on images of another size than it was trained on, when its downsamplings divide the sides
// (DDS on ImageNet: the 256×256 UNet on 224×224 images); the fast path agrees with the generic one there.
TEST(FastDenoiser, RunsOnOtherInputSizes) {
  DiffusionModel adm = narrow_diffusion_model("adm_narrow");  // 3 downsamplings: sides divisible by 8
  const Tensor x = random_images({2, 3, 40, 56}, 8, 0.25f);
  const Tensor expected = denoise_one_shot(adm, x, 0.25);
  ASSERT_EQ(expected.shape(), x.shape());
  FastDenoiser fast(adm, 0.25, Precision::FP32);
  EXPECT_LE(max_abs_diff(fast.denoise(x), expected), 2e-5);
  EXPECT_ERROR_MENTIONS(fast.denoise(random_images({1, 3, 36, 56}, 8, 0.25f)), "divisible by 8");

  auto clf = load_model(fixture_dir() + "/models/lenet_32.safetensors");
  DenoisedClassifier dds(adm, *clf, 0.25);
  EXPECT_EQ(dds.input_shape(), (Shape{3, 64, 64}));
  dds.set_input_size(40, 56);
  EXPECT_EQ(dds.input_shape(), (Shape{3, 40, 56}));
  EXPECT_ERROR_MENTIONS(dds.set_input_size(40, 60), "cannot run on 40x60", "divisible by 8");
  // classifier(resize(denoise(x))), the denoised 40×56 images resized to lenet's 32×32.
  const Tensor labels = dds.predict_labels(x);
  EXPECT_TRUE(allclose(labels, ops::argmax(clf->forward(ops::resize_bicubic(expected, 32, 32))), 0));
}

// DDS with both parts on the fast engine labels as the generic composition does.
TEST(FastDenoiser, DenoisedClassifierUsesIt) {
  DiffusionModel m = narrow_diffusion_model("iddpm_narrow");
  auto clf = load_model(fixture_dir() + "/models/lenet_32.safetensors");
  const Tensor x = random_images({6, 3, 32, 32}, 9, 0.25f);
  DenoisedClassifier generic(m, *clf, 0.25);
  DenoisedClassifier fast(m, *clf, 0.25, 0, 0.0, 0, std::make_unique<FastClassifier>(*clf, Precision::FP32),
                          std::make_unique<FastDenoiser>(m, 0.25, Precision::FP32));
  EXPECT_TRUE(allclose(fast.predict_labels(x), generic.predict_labels(x), 0));
}

}  // namespace
}  // namespace sc::test
