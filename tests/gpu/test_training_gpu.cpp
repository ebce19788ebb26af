// Training on CUDA against the CPU: one SGD step through whole models in training mode (BatchNorm on batch
// statistics and its backward, the weight gradients, the SGD update on the device) gives the same parameters
// and running statistics.
#include "nn/runtime.h"
#include "test_util.h"
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

}  // namespace
}  // namespace sc::test
