// CUDA against the CPU for the smoothing path and whole models: identical noise bits, the same counts and
// certificates up to near-ties, and the same logits for the converted architectures.
#include <cmath>

#include "diffusion/denoiser.h"
#include "io/safetensors.h"
#include "kernels/gaussian_noise.h"
#include "nn/models/model_file.h"
#include "nn/runtime.h"
#include "smoothing/smooth.h"
#include "test_util.h"
#include "weights_tools/convert.h"

namespace sc::test {
namespace {

#define SKIP_WITHOUT_GPU() \
  if (!cuda_available()) GTEST_SKIP() << "no GPU: " << cuda_unavailable_reason()

TEST(GpuSmoothing, NoiseIsBitIdenticalOnCpuAndCuda) {
  SKIP_WITHOUT_GPU();
  for (const Shape& s : {Shape{3, 32, 32}, Shape{1, 5, 7}, Shape{3, 1, 1}}) {
    const Tensor x = randn(s, 3);
    const NoiseKey key{0x123456789abcULL, 77, noise::kEstimation};
    const Tensor cpu = ops::add_gaussian_noise(x, 257, 0.37f, key, 1000);
    const Tensor gpu = ops::add_gaussian_noise(x.cuda(), 257, 0.37f, key, 1000).cpu();
    ASSERT_EQ(cpu.numel(), gpu.numel());
    int64_t differ = 0;
    for (int64_t i = 0; i < cpu.numel(); ++i) differ += cpu.data<float>()[i] != gpu.data<float>()[i];
    EXPECT_EQ(differ, 0) << shape_str(s) << ": " << differ << " values differ";
  }
}

TEST(GpuSmoothing, CertifyAgreesWithCpu) {
  SKIP_WITHOUT_GPU();
  auto cpu_model = load_model(fixture_dir() + "/models/lenet_28.safetensors");
  auto gpu_model = load_model(fixture_dir() + "/models/lenet_28.safetensors", Device::cuda(0));
  ArgmaxClassifier cpu_base(*cpu_model), gpu_base(*gpu_model);
  Smooth cpu(cpu_base, 0.5, 1000, 9), gpu(gpu_base, 0.5, 1000, 9);
  const Tensor xs = io::read_safetensors(fixture_dir() + "/models/lenet_28.io.safetensors").at("x");
  int same = 0;
  for (int64_t i = 0; i < xs.size(0); ++i) {
    const Tensor x = xs.slice(0, i, i + 1).reshape({1, 28, 28});
    const Certificate a = cpu.certify(x, i, 100, 5000, 0.001), b = gpu.certify(x, i, 100, 5000, 0.001);
    // Identical noise; logits differ in the last bits, so a sample at a near-tie may flip.
    same += a.prediction == b.prediction && std::abs(a.count - b.count) <= 2;
  }
  EXPECT_GE(same, xs.size(0) - 1);
}

TEST(GpuModels, ZooLogitsOnCudaMatchCpu) {
  SKIP_WITHOUT_GPU();
  ConvertOptions o;
  o.input_shape = {3, 64, 64};
  o.arch = "resnet50";
  ConvertedModel c = convert_checkpoint(fixture_dir() + "/checkpoints/torchvision_resnet50.pth", o);
  const io::Safetensors io = io::read_safetensors(fixture_dir() + "/checkpoints/torchvision_resnet50.io.safetensors");
  const Tensor cpu = c.model->forward(io.at("x"));
  c.model->to(Device::cuda(0));
  const Tensor gpu = c.model->forward(io.at("x").cuda()).cpu();
  EXPECT_TRUE(allclose(gpu, cpu, 1e-4));
  EXPECT_TRUE(allclose(gpu, io.at("logits"), 1e-4));
}

// Hugging Face's ViT and timm's BEiT with every transformer op on the device (patch tokens, LayerNorm, token
// attention with and without relative position biases, GELU, layer scales, the slices, means and
// concatenations between them): the logits, and from one recorded pass the input gradient and every
// parameter's gradient, against the CPU (and the logits against the libraries' own in float64).
class GpuTransformer : public ::testing::TestWithParam<std::string> {};

TEST_P(GpuTransformer, OnCudaMatchesCpu) {
  SKIP_WITHOUT_GPU();
  const std::string arch = GetParam();
  auto model =
      std::move(convert_checkpoint(tiny_transformer_checkpoint(arch), tiny_transformer_options(arch)).model);
  const io::Safetensors io = io::read_safetensors(tiny_transformer_io(arch));
  const Tensor& x = io.at("train.x");
  struct Pass {
    Tensor logits, dx;
    ParameterGradients grads;
  };
  auto run = [&](Device device) {
    Pass p;
    model->to(device);
    {
      RecordForBackward record;
      p.logits = model->forward(x.to(device)).cpu();
    }
    AccumulateParameterGradients accumulate(p.grads);
    p.dx = model->backward(io.at("train.dy").to(device)).cpu();
    return p;
  };
  const Pass cpu = run(Device::cpu()), gpu = run(Device::cuda(0));
  EXPECT_TRUE(allclose(gpu.logits, cpu.logits, 1e-4));
  EXPECT_TRUE(allclose(gpu.logits, io.at("logits"), 1e-4));
  EXPECT_TRUE(allclose(gpu.dx, cpu.dx, 1e-4));
  int checked = 0;
  for (auto& [key, t] : model->named_tensors()) {
    if (key.empty()) continue;
    SCOPED_TRACE(key);
    const Tensor* want = cpu.grads.find(*t);  // keyed by the tensor, which moved but stayed the same object
    const Tensor* got = gpu.grads.find(*t);
    ASSERT_TRUE(want && got);
    // The ViT's key biases get no gradient (softmax ignores a shift shared by every key): float32 noise on
    // both.
    if (key.find("attention.attention.key.bias") != std::string::npos) {
      for (float v : got->to_float_vector()) EXPECT_LT(std::fabs(v), 1e-6f);
      continue;
    }
    EXPECT_TRUE(allclose(got->cpu(), want->cpu(), 1e-4));
    ++checked;
  }
  // ViT: 40 parameters less the 2 key biases; BEiT: 39; timm's ViT: 36.
  EXPECT_EQ(checked, arch == "vit" ? 38 : arch == "beit" ? 39 : 36);
}

INSTANTIATE_TEST_SUITE_P(DenoisedSmoothingClassifiers, GpuTransformer,
                         ::testing::Values("vit", "beit", "timm_vit"),
                         [](const auto& info) { return info.param; });

TEST(GpuModels, UNetOnCudaMatchesCpu) {
  SKIP_WITHOUT_GPU();
  const std::map<std::string, std::string> flags = {
      {"arch", "iddpm_unet"}, {"image_size", "32"}, {"num_channels", "32"}, {"num_res_blocks", "1"},
      {"num_heads", "2"}, {"learn_sigma", "True"}, {"diffusion_steps", "4000"}, {"noise_schedule", "cosine"}};
  DiffusionModel cpu = load_diffusion_model(fixture_dir() + "/checkpoints/iddpm_narrow.pt", Device::cpu(), flags);
  DiffusionModel gpu = load_diffusion_model(fixture_dir() + "/checkpoints/iddpm_narrow.pt", Device::cuda(0), flags);
  const io::Safetensors ref = io::read_safetensors(fixture_dir() + "/checkpoints/iddpm_narrow.denoise.safetensors");
  const Tensor a = denoise_one_shot(cpu, ref.at("x"), 0.25);
  const Tensor b = denoise_one_shot(gpu, ref.at("x").cuda(), 0.25).cpu();
  EXPECT_TRUE(allclose(b, a, 1e-4));
  EXPECT_TRUE(allclose(b, ref.at("out"), 1e-4));
}

}  // namespace
}  // namespace sc::test
