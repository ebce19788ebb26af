// Backward passes and attacks on CUDA against the CPU: the input gradient of whole models (every backward op
// on the device, the BatchNorm and normalization constants made on the device; repeated from one recorded
// forward pass), PGD's adversarial examples, and a randomized model's noise and EOT gradients.
#include "attacks/pgd.h"
#include "nn/interval.h"
#include "nn/models/denoisers.h"
#include "nn/models/noisy_network.h"
#include "nn/models/random_init.h"
#include "nn/runtime.h"
#include "test_util.h"

namespace sc::test {
namespace {

#define SKIP_WITHOUT_GPU() \
  if (!cuda_available()) GTEST_SKIP() << "no GPU: " << cuda_unavailable_reason()

TEST(GpuBackward, ModelInputGradientsMatchCpu) {
  SKIP_WITHOUT_GPU();
  struct Case {
    const char* arch;
    int64_t size;
  };
  for (const Case c : {Case{"lenet", 32}, Case{"aka_resnet32", 16}, Case{"cifar_resnet20", 16}}) {
    SCOPED_TRACE(c.arch);
    auto cpu = random_classifier(c.arch, 3, c.size, 10, 3);
    auto gpu = random_classifier(c.arch, 3, c.size, 10, 3);
    gpu->to(Device::cuda(0));
    const Tensor x = random_images({3, 3, c.size, c.size}, 4), dy = randn({3, 10}, 5);
    Tensor want, got;
    {
      RecordForBackward record;
      cpu->forward(x);
      gpu->forward(x.cuda());
    }
    want = cpu->backward(dy);
    got = gpu->backward(dy.cuda()).cpu();
    EXPECT_TRUE(allclose(got, want, 1e-4));
    // Backward repeats from the one recorded forward pass (LogitsAt relies on it): another dy, then dy again.
    gpu->backward(randn({3, 10}, 6).cuda());
    EXPECT_TRUE(identical(gpu->backward(dy.cuda()).cpu(), got));
  }
}

TEST(GpuIntervalBounds, MatchCpu) {
  SKIP_WITHOUT_GPU();
  auto cpu = random_classifier("aka_resnet32", 3, 16, 10, 9);
  auto gpu = random_classifier("aka_resnet32", 3, 16, 10, 9);
  gpu->to(Device::cuda(0));
  const Tensor x = random_images({2, 3, 16, 16}, 10);
  const Tensor a = randn({2, 10}, 11), b = randn({2, 10}, 12);
  ParameterGradients cpu_grads, gpu_grads;
  Interval want, got, want_box, got_box;
  {
    RecordForBackward record;
    want = cpu->bounds(linf_box(x, 1e-3));
    got = gpu->bounds(linf_box(x.cuda(), 1e-3));
    {
      AccumulateParameterGradients into(cpu_grads);
      want_box = cpu->bounds_backward({a, b});
    }
    AccumulateParameterGradients into(gpu_grads);
    got_box = gpu->bounds_backward({a.cuda(), b.cuda()});
  }
  EXPECT_TRUE(allclose(got.lower.cpu(), want.lower, 1e-4));
  EXPECT_TRUE(allclose(got.upper.cpu(), want.upper, 1e-4));
  // IBP training's backward through BatchNorm, option-A shortcuts and pooling on the device.
  EXPECT_TRUE(allclose(got_box.lower.cpu(), want_box.lower, 1e-4));
  EXPECT_TRUE(allclose(got_box.upper.cpu(), want_box.upper, 1e-4));
  NamedTensors cpu_params = cpu->named_tensors(), gpu_params = gpu->named_tensors();
  int checked = 0;
  for (size_t i = 0; i < cpu_params.size(); ++i) {
    const Tensor* w = cpu_grads.find(*cpu_params[i].second);
    if (w == nullptr) continue;  // the statistics
    SCOPED_TRACE(cpu_params[i].first);
    const Tensor* g = gpu_grads.find(*gpu_params[i].second);
    ASSERT_NE(g, nullptr);
    EXPECT_TRUE(allclose(g->cpu(), *w, 1e-4));
    ++checked;
  }
  EXPECT_EQ(static_cast<size_t>(checked), cpu_grads.size());
  EXPECT_GT(checked, 60);
}

// Bounds through Salman et al.'s denoisers (a difference of boxes, MemNet's concatenated memory) and the
// classifier behind them, as ood --ibp-eps computes them with --denoiser.
TEST(GpuIntervalBounds, ThroughADenoiserMatchCpu) {
  SKIP_WITHOUT_GPU();
  for (const char* arch : {"dncnn", "memnet"}) {
    SCOPED_TRACE(arch);
    ModelSpec spec;
    spec.arch = arch, spec.num_classes = 0, spec.height = spec.width = 16;
    spec.flags = {{"depth", "4"}, {"width", "8"}, {"memory_blocks", "2"}, {"residual_blocks", "2"}};
    if (spec.arch == "dncnn") spec.flags.erase("memory_blocks"), spec.flags.erase("residual_blocks");
    auto cpu_denoiser = build_model(spec), gpu_denoiser = build_model(spec);
    randomize_parameters(*cpu_denoiser, 13);
    randomize_parameters(*gpu_denoiser, 13);
    auto cpu_lenet = random_classifier("lenet", 3, 16, 10, 14),
         gpu_lenet = random_classifier("lenet", 3, 16, 10, 14);
    gpu_denoiser->to(Device::cuda(0));
    gpu_lenet->to(Device::cuda(0));
    const Tensor x = random_images({2, 3, 16, 16}, 15);
    const Interval want = denoised_network(*cpu_denoiser, *cpu_lenet)->bounds(linf_box(x, 1e-3)),
                   got = denoised_network(*gpu_denoiser, *gpu_lenet)->bounds(linf_box(x.cuda(), 1e-3));
    EXPECT_TRUE(allclose(got.lower.cpu(), want.lower, 1e-4));
    EXPECT_TRUE(allclose(got.upper.cpu(), want.upper, 1e-4));
  }
}

TEST(GpuAttacks, PgdMatchesCpu) {
  SKIP_WITHOUT_GPU();
  auto cpu = random_classifier("lenet", 3, 32, 10, 7);
  auto gpu = random_classifier("lenet", 3, 32, 10, 7);
  gpu->to(Device::cuda(0));
  const Tensor x = random_images({5, 3, 32, 32}, 8);
  attacks::PgdOptions o;
  o.eps = 0.01, o.steps = 3, o.step_size = 0.004, o.seed = 2;
  const std::vector<int64_t> labels = {0, 1, 2, 3, 4}, ids = {0, 1, 2, 3, 4};
  const auto want = attacks::pgd_attack(*cpu, x, labels, ids, o);
  const auto got = attacks::pgd_attack(*gpu, x.cuda(), labels, ids, o);
  // The sign steps can differ only where a gradient element is within rounding of 0.
  EXPECT_TRUE(allclose(got.adversarial.cpu(), want.adversarial, 1e-3));
  EXPECT_EQ(got.predictions, want.predictions);
}

// The randomized model draws the same noise on the device as on the CPU (the counter noise), so its logits
// and its EOT loss gradients over several draws match the CPU's.
TEST(GpuAttacks, RandomizedModelMatchesCpu) {
  SKIP_WITHOUT_GPU();
  auto cpu = random_classifier("lenet", 3, 32, 10, 7);
  auto gpu = random_classifier("lenet", 3, 32, 10, 7);
  gpu->to(Device::cuda(0));
  auto noisy_cpu = noisy_network(*cpu, 0.3, 4), noisy_gpu = noisy_network(*gpu, 0.3, 4);
  const Tensor x = random_images({3, 3, 32, 32}, 9);
  EXPECT_TRUE(allclose(noisy_gpu->forward(x.cuda()).cpu(), noisy_cpu->forward(x), 1e-4));
  const std::vector<int64_t> labels = {3, 1, 8};
  const auto want = attacks::eot_loss_gradient(*noisy_cpu, x, attacks::cross_entropy(labels), 4);
  const auto got = attacks::eot_loss_gradient(*noisy_gpu, x.cuda(), attacks::cross_entropy(labels), 4);
  EXPECT_TRUE(allclose(got.grad.cpu(), want.grad, 1e-4));
  for (size_t i = 0; i < labels.size(); ++i) EXPECT_NEAR(got.loss[i], want.loss[i], 1e-4);
}

}  // namespace
}  // namespace sc::test
