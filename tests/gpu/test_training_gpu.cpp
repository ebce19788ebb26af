// Training on CUDA against the CPU: one SGD step through whole models in training mode (BatchNorm on batch
// statistics and its backward, the weight gradients, the SGD update on the device) gives the same parameters
// and running statistics; the denoiser objectives give the same losses and gradients.
#include "attacks/loss_gradient.h"
#include "nn/models/denoisers.h"
#include "nn/models/random_init.h"
#include "nn/runtime.h"
#include "test_util.h"
#include "training/denoiser_training.h"
#include "training/sgd.h"

namespace sc::test {
namespace {

#define SKIP_WITHOUT_GPU() \
  if (!cuda_available()) GTEST_SKIP() << "no GPU: " << cuda_unavailable_reason()

TEST(GpuTraining, SgdStepMatchesCpu) {
  SKIP_WITHOUT_GPU();
  struct Case {
    const char* arch;
    int64_t size;
  };
  for (const Case c : {Case{"lenet", 32}, Case{"cifar_resnet20", 16}}) {
    SCOPED_TRACE(c.arch);
    auto cpu = random_classifier(c.arch, 3, c.size, 10, 3);
    auto gpu = random_classifier(c.arch, 3, c.size, 10, 3);
    gpu->to(Device::cuda(0));
    const Tensor x = random_images({3, 3, c.size, c.size}, 4), dy = randn({3, 10}, 5);
    const SgdParams p{0.1, 0.9, 1e-4, false};
    training::Sgd cpu_sgd(p), gpu_sgd(p);
    for (int step = 0; step < 2; ++step) {  // the second step reads the momentum buffers the first made
      ParameterGradients cpu_grads, gpu_grads;
      TrainingMode training;
      {
        RecordForBackward record;
        cpu->forward(x);
        gpu->forward(x.cuda());
      }
      {
        AccumulateParameterGradients into(cpu_grads);
        cpu->backward(dy);
      }
      {
        AccumulateParameterGradients into(gpu_grads);
        gpu->backward(dy.cuda());
      }
      EXPECT_EQ(cpu_grads.size(), gpu_grads.size());
      cpu_sgd.step(*cpu, cpu_grads, p.lr);
      gpu_sgd.step(*gpu, gpu_grads, p.lr);
    }
    const NamedTensors want = cpu->named_tensors(), got = gpu->named_tensors();
    ASSERT_EQ(want.size(), got.size());
    for (size_t i = 0; i < want.size(); ++i) {
      if (want[i].first.empty()) continue;
      SCOPED_TRACE(want[i].first);
      if (want[i].second->dtype() == DType::I64)
        EXPECT_TRUE(identical(got[i].second->cpu(), *want[i].second));
      else
        EXPECT_TRUE(allclose(got[i].second->cpu(), *want[i].second, 1e-4));
    }
  }
}

// Salman et al.'s objectives on the device (the denoising objective's error and gradient stay there) for a
// DnCNN and a MemNet (concatenations, sliced gradients) in front of an MLP; and the input gradient through
// both at inference, as attacks through a denoiser take it.
TEST(GpuTraining, DenoiserObjectivesMatchCpu) {
  SKIP_WITHOUT_GPU();
  using Objective = training::DenoiserTrainOptions::Objective;
  auto classifier = random_classifier("mlp", 3, 9, 5, 7);
  auto gpu_classifier = random_classifier("mlp", 3, 9, 5, 7);
  gpu_classifier->to(Device::cuda(0));
  const Tensor clean = random_images({4, 3, 9, 9}, 8), noisy = random_images({4, 3, 9, 9}, 9, 0.4f);
  const std::vector<int64_t> labels{0, 3, 1, 4};
  for (const char* arch : {"dncnn", "memnet"}) {
    SCOPED_TRACE(arch);
    ModelSpec spec;
    spec.arch = arch, spec.num_classes = 0, spec.channels = 3, spec.height = spec.width = 9;
    spec.flags = {{"depth", "3"}, {"width", "4"}, {"memory_blocks", "2"}, {"residual_blocks", "2"}};
    auto cpu = build_model(spec), gpu = build_model(spec);
    randomize_parameters(*cpu, 6);
    randomize_parameters(*gpu, 6);
    gpu->to(Device::cuda(0));
    for (Objective objective : {Objective::Denoising, Objective::Classification, Objective::Stability}) {
      SCOPED_TRACE(training::objective_name(objective));
      ParameterGradients cpu_grads, gpu_grads;
      const training::DenoiserLoss want =
          training::denoiser_batch_loss(*cpu, classifier.get(), clean, noisy, labels, objective, &cpu_grads);
      const training::DenoiserLoss got = training::denoiser_batch_loss(
          *gpu, gpu_classifier.get(), clean.cuda(), noisy.cuda(), labels, objective, &gpu_grads);
      EXPECT_NEAR(got.loss, want.loss, 1e-5 * want.loss);
      EXPECT_EQ(got.accuracy, want.accuracy);
      ASSERT_EQ(cpu_grads.size(), gpu_grads.size());
      EXPECT_GE(cpu_grads.size(), 6u);  // every parameter of the denoiser (the DnCNN has 6)
      const NamedTensors c = cpu->named_tensors(), g = gpu->named_tensors();
      for (size_t i = 0; i < c.size(); ++i) {
        const Tensor* cg = cpu_grads.find(*c[i].second);
        if (cg == nullptr) continue;
        SCOPED_TRACE(c[i].first);
        const Tensor* gg = gpu_grads.find(*g[i].second);
        ASSERT_NE(gg, nullptr);
        EXPECT_TRUE(allclose(gg->cpu(), *cg, 1e-4));
      }
    }
    const auto cpu_both = denoised_network(*cpu, *classifier);
    const auto gpu_both = denoised_network(*gpu, *gpu_classifier);
    EXPECT_EQ(gpu_both->device(), Device::cuda(0));  // where ood's attacks put their images
    const auto loss = attacks::cross_entropy(labels);
    EXPECT_TRUE(allclose(attacks::loss_gradient(*gpu_both, noisy.cuda(), loss).grad.cpu(),
                         attacks::loss_gradient(*cpu_both, noisy, loss).grad, 1e-4));
  }
}

}  // namespace
}  // namespace sc::test
