// Diffusion denoised smoothing: schedules and t*(σ) against REFERENCE.md, one-shot denoising against the
// public reference code, conversion of UNet checkpoints, and the DDS / DiffSmooth base classifiers.
#include <cmath>
#include <filesystem>

#include "diffusion/denoised_classifier.h"
#include "diffusion/denoiser.h"
#include "diffusion/sampler.h"
#include "io/dataset.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "kernels/argmax.h"
#include "kernels/gaussian_noise.h"
#include "kernels/resize_bicubic.h"
#include "nn/models/model_file.h"
#include "test_util.h"
#include "weights_tools/convert.h"

namespace sc::test {
namespace {

std::string ckpt(const std::string& name) {
  return fixture_dir() + "/checkpoints/" + name;
}

const std::map<std::string, std::string> kNarrowFlags = {{"image_size", "32"},
                                                         {"num_channels", "32"},
                                                         {"num_res_blocks", "1"},
                                                         {"num_heads", "2"},
                                                         {"attention_resolutions", "16,8"},
                                                         {"learn_sigma", "True"},
                                                         {"use_scale_shift_norm", "True"},
                                                         {"diffusion_steps", "4000"},
                                                         {"noise_schedule", "cosine"}};

TEST(Diffusion, TimestepForSigmaMatchesTheReference) {
  const auto cosine = diffusion::make_schedule("cosine", 4000),
             linear = diffusion::make_schedule("linear", 1000);
  const double sigmas[] = {0.12, 0.25, 0.50, 1.0};
  const int64_t t_cos[] = {573, 1158, 1984, 2809}, t_lin[] = {70, 145, 259, 396};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(diffusion::timestep_for_sigma(cosine, sigmas[i]), t_cos[i]) << sigmas[i];
    EXPECT_EQ(diffusion::timestep_for_sigma(linear, sigmas[i]), t_lin[i]) << sigmas[i];
  }
  EXPECT_NEAR(linear.betas.front(), 1e-4, 1e-18);
  EXPECT_NEAR(linear.betas.back(), 0.02, 1e-17);
  EXPECT_EQ(cosine.betas.back(), 0.999);  // the clip
  EXPECT_ERROR_MENTIONS(diffusion::make_schedule("sigmoid", 100), "unknown noise schedule");
  EXPECT_ERROR_MENTIONS(diffusion::timestep_for_sigma(linear, 1e6), "beyond");
}

TEST(Diffusion, OneShotDenoiseMatchesTheReferenceCode) {
  auto flags = kNarrowFlags;
  flags["arch"] = "iddpm_unet";
  DiffusionModel m = load_diffusion_model(ckpt("iddpm_narrow.pt"), Device::cpu(), flags);
  EXPECT_TRUE(m.rescale_timesteps);
  const io::Safetensors ref = io::read_safetensors(ckpt("iddpm_narrow.denoise.safetensors"));
  const double sigma = std::stod(ref.metadata.at("sigma"));
  EXPECT_EQ(diffusion::timestep_for_sigma(m.schedule, sigma), std::stoll(ref.metadata.at("t_star")));
  EXPECT_TRUE(allclose(denoise_one_shot(m, ref.at("x"), sigma), ref.at("out"), 1e-4));
}

TEST(Diffusion, ConvertedUNetFileDenoisesTheSame) {
  const std::string dst = temp_path("iddpm.safetensors");
  convert_diffusion_checkpoint(ckpt("iddpm_narrow.pt"), dst, "iddpm_unet", kNarrowFlags);
  DiffusionModel m = load_diffusion_model(dst, Device::cpu());
  const io::Safetensors ref = io::read_safetensors(ckpt("iddpm_narrow.denoise.safetensors"));
  EXPECT_TRUE(allclose(denoise_one_shot(m, ref.at("x"), 0.25), ref.at("out"), 1e-4));
  EXPECT_EQ(io::read_safetensors(dst).metadata.at("flag.noise_schedule"), "cosine");
  auto wrong = kNarrowFlags;
  wrong["num_res_blocks"] = "2";
  EXPECT_ERROR_MENTIONS(
      convert_diffusion_checkpoint(ckpt("iddpm_narrow.pt"), temp_path("w.safetensors"), "iddpm_unet", wrong),
      "describe 2491462 parameters", "more than the 1679782 numbers the file holds");
  wrong = kNarrowFlags;  // fewer weights than the file: the strict load names the key that differs
  wrong["learn_sigma"] = "False";
  EXPECT_ERROR_MENTIONS(
      convert_diffusion_checkpoint(ckpt("iddpm_narrow.pt"), temp_path("w.safetensors"), "iddpm_unet", wrong),
      "out.2.weight");
  EXPECT_ERROR_MENTIONS(load_diffusion_model(fixture_dir() + "/models/lenet_32.safetensors", Device::cpu()),
                        "not a diffusion model file");
}

// Flags in a file (or given for a checkpoint) that describe a UNet larger than the file's numbers: refused by
// count before the network is built. Here the build would need some 10^11 weights.
TEST(Diffusion, FlagsDescribingMoreWeightsThanTheFileHoldsAreRefusedBeforeBuilding) {
  const std::string good = temp_path("iddpm_ok.safetensors"), huge = temp_path("iddpm_huge.safetensors");
  convert_diffusion_checkpoint(ckpt("iddpm_narrow.pt"), good, "iddpm_unet", kNarrowFlags);
  io::Safetensors st = io::read_safetensors(good);
  st.metadata["flag.num_channels"] = "4096";
  io::write_safetensors(huge, st.tensors, st.metadata);
  EXPECT_ERROR_MENTIONS(load_diffusion_model(huge, Device::cpu()), "iddpm_huge.safetensors",
                        "more than the 1679782 numbers the file holds");
  auto flags = kNarrowFlags;
  flags["arch"] = "iddpm_unet";
  flags["num_channels"] = "4096";
  EXPECT_ERROR_MENTIONS(load_diffusion_model(ckpt("iddpm_narrow.pt"), Device::cpu(), flags), "parameters",
                        "numbers the file holds");
}

TEST(Diffusion, DenoisedClassifiersComposeDenoiserAndClassifier) {
  auto flags = kNarrowFlags;
  flags["arch"] = "iddpm_unet";
  DiffusionModel m = load_diffusion_model(ckpt("iddpm_narrow.pt"), Device::cpu(), flags);
  auto clf = load_model(fixture_dir() + "/models/lenet_32.safetensors");
  const Tensor x = io::read_safetensors(fixture_dir() + "/models/lenet_32.io.safetensors")
                       .at("x")
                       .slice(0, 0, 6)
                       .contiguous();
  DenoisedClassifier dds(m, *clf, 0.25);
  const Tensor expected_logits = clf->forward(denoise_one_shot(m, x, 0.25));
  const Tensor expected = ops::argmax(expected_logits);
  EXPECT_TRUE(allclose(dds.predict_labels(x), expected, 0));
  EXPECT_TRUE(identical(dds.logits(x), expected_logits));  // the OOD scores of DISTRO's pipeline
  // DiffSmooth with a vanishing local noise is DDS; with real noise it stays a valid, deterministic
  // labelling.
  DenoisedClassifier tiny(m, *clf, 0.25, 3, 1e-7, 5), local(m, *clf, 0.25, 5, 0.25, 5);
  EXPECT_TRUE(allclose(tiny.predict_labels(x), expected, 0));
  EXPECT_ERROR_MENTIONS(local.logits(x), "labels only");
  const Tensor a = local.predict_labels(x), b = local.predict_labels(x);
  EXPECT_TRUE(allclose(a, b, 0));
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_TRUE(a.data<int64_t>()[i] >= 0 && a.data<int64_t>()[i] < 7);
  // The classifier on the fast engine: the same labels, for DDS and for DiffSmooth.
  DenoisedClassifier fast(m, *clf, 0.25, 0, 0.0, 0, std::make_unique<FastClassifier>(*clf, Precision::FP32));
  EXPECT_TRUE(allclose(fast.predict_labels(x), expected, 0));
  DenoisedClassifier fast_local(m, *clf, 0.25, 5, 0.25, 5,
                                std::make_unique<FastClassifier>(*clf, Precision::FP32));
  EXPECT_TRUE(allclose(fast_local.predict_labels(x), a, 0));
  auto gray = load_model(fixture_dir() + "/models/lenet_28.safetensors");
  EXPECT_ERROR_MENTIONS(DenoisedClassifier(m, *gray, 0.25), "channels");
  // A classifier of another size gets the denoised image resized (bicubic, antialiased).
  auto other = load_model(fixture_dir() + "/models/mlp_5x5.safetensors");  // 3×5×5 inputs
  DenoisedClassifier resized(m, *other, 0.25);
  EXPECT_EQ(resized.input_shape(), (Shape{3, 32, 32}));
  const Tensor expected_small =
      ops::argmax(other->forward(ops::resize_bicubic(denoise_one_shot(m, x, 0.25), 5, 5)));
  EXPECT_TRUE(allclose(resized.predict_labels(x), expected_small, 0));
}

// Salman et al.'s denoised smoothing: their DnCNN checkpoint in front of the classifier. The composition is
// the classifier on the network's output, at any image size (it is fully convolutional; the classifier's
// input is resized to its own size as for DDS).
TEST(Diffusion, NetworkDenoiserInFrontOfTheClassifier) {
  auto clf = load_model(fixture_dir() + "/models/lenet_32.safetensors");
  const Tensor x = io::read_safetensors(fixture_dir() + "/models/lenet_32.io.safetensors")
                       .at("x")
                       .slice(0, 0, 6)
                       .contiguous();
  auto dncnn = load_any_model(ckpt("salman_cifar_dncnn.pth.tar"), Device::cpu(), {});
  Classifier& net = *dncnn;
  const Tensor expected_logits = clf->forward(net.forward(x));
  DenoisedClassifier ds(std::make_unique<NetworkDenoiser>(std::move(dncnn)), *clf);
  EXPECT_EQ(ds.input_shape(), (Shape{3, 32, 32}));
  EXPECT_EQ(ds.engines(), "generic classifier, network denoiser (cifar_dncnn)");
  EXPECT_TRUE(identical(ds.logits(x), expected_logits));
  EXPECT_FALSE(allclose(expected_logits, clf->forward(x), 1e-3));  // the denoiser changes what it sees
  EXPECT_TRUE(allclose(ds.predict_labels(x), ops::argmax(expected_logits), 0));
  // Odd sizes: the network runs on 9×7 images, its output resized for the 32×32 classifier.
  ds.set_input_size(9, 7);
  EXPECT_EQ(ds.input_shape(), (Shape{3, 9, 7}));
  const Tensor small = ops::resize_bicubic(x, 9, 7);
  const Tensor denoised = net.net->forward(small);
  EXPECT_EQ(denoised.shape(), small.shape());
  EXPECT_TRUE(identical(ds.logits(small), clf->forward(ops::resize_bicubic(denoised, 32, 32))));
  EXPECT_ERROR_MENTIONS(NetworkDenoiser(load_model(fixture_dir() + "/models/lenet_32.safetensors")),
                        "'lenet' is not a denoiser");
  auto gray = load_model(fixture_dir() + "/models/lenet_28.safetensors");
  EXPECT_ERROR_MENTIONS(DenoisedClassifier(std::make_unique<NetworkDenoiser>(load_any_model(
                                               ckpt("salman_cifar_dncnn.pth.tar"), Device::cpu(), {})),
                                           *gray),
                        "denoiser has 3 channels, the classifier 1");
}

TEST(Diffusion, AncestralStepsMatchTheReferenceCode) {
  auto flags = kNarrowFlags;
  flags["arch"] = "iddpm_unet";
  DiffusionModel m = load_diffusion_model(ckpt("iddpm_narrow.pt"), Device::cpu(), flags);
  const io::Safetensors ref = io::read_safetensors(ckpt("iddpm_narrow.sample_step.safetensors"));
  const std::vector<int64_t> kept = respaced_timesteps(4000, 10);
  std::string joined;
  for (int64_t t : kept) joined += (joined.empty() ? "" : ",") + std::to_string(t);
  EXPECT_EQ(joined, ref.metadata.at("kept"));
  for (int64_t k : {0, 5, 9}) {
    SCOPED_TRACE("step " + std::to_string(k));
    EXPECT_TRUE(allclose(ddpm_step_at(m, ref.at("x"), kept, k, ref.at("z")),
                         ref.at("step" + std::to_string(k)), 1e-4));
  }
  // A whole (short) loop runs and ends inside [−1, 1].
  const Tensor x = ddpm_sample_loop(m, randn({1, 3, 32, 32}, 3), respaced_timesteps(4000, 4), 1);
  for (float v : x.to_float_vector()) EXPECT_TRUE(v >= -1.0f && v <= 1.0f);
}

// The committed Fashion-MNIST denoiser (a float16 torch.save checkpoint) converts and removes most of the
// noise.
TEST(Diffusion, TrainedDenoiserRemovesNoise) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed";
  const std::map<std::string, std::string> flags = {
      {"arch", "iddpm_unet"},         {"image_size", "32"},         {"in_channels", "1"},
      {"num_channels", "32"},         {"num_res_blocks", "1"},      {"num_heads", "4"},
      {"attention_resolutions", "8"}, {"learn_sigma", "False"},     {"use_scale_shift_norm", "True"},
      {"diffusion_steps", "1000"},    {"noise_schedule", "cosine"}, {"rescale_timesteps", "True"}};
  DiffusionModel m =
      load_diffusion_model(fixture_dir() + "/../../models/fmnist_iddpm_small.pt", Device::cpu(), flags);
  auto data = io::open_dataset("fashion-mnist");
  const Tensor x28 = data->images(0, 4);
  Tensor clean = Tensor::zeros({4, 1, 32, 32});  // padded by 2 pixels, as in training
  for (int64_t n = 0; n < 4; ++n)
    for (int64_t i = 0; i < 28; ++i)
      for (int64_t j = 0; j < 28; ++j)
        clean.data<float>()[(n * 32 + i + 2) * 32 + j + 2] = x28.data<float>()[(n * 28 + i) * 28 + j];
  for (double sigma : {0.25, 0.5}) {
    const Tensor noisy = ops::add_gaussian_noise(clean.reshape({4 * 32 * 32}), 1, static_cast<float>(sigma),
                                                 NoiseKey{1, 0, 0}, 0)
                             .reshape(clean.shape());
    const Tensor out = denoise_one_shot(m, noisy, sigma);
    double err_noisy = 0, err_out = 0;
    for (int64_t i = 0; i < clean.numel(); ++i) {
      err_noisy += std::pow(noisy.data<float>()[i] - clean.data<float>()[i], 2);
      err_out += std::pow(out.data<float>()[i] - clean.data<float>()[i], 2);
    }
    EXPECT_LT(err_out, 0.1 * err_noisy) << "sigma " << sigma;
    std::printf("[denoiser] sigma %.2f: MSE %.5f noisy -> %.5f denoised\n", sigma, err_noisy / clean.numel(),
                err_out / clean.numel());
  }
}

}  // namespace
}  // namespace sc::test
