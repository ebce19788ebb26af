// The demo model end to end: trained in PyTorch (weights_tools/train_lenet_fmnist.py), converted here without
// PyTorch, it reproduces the test accuracy PyTorch measured and stored in the checkpoint.
#include <filesystem>

#include "io/dataset.h"
#include "kernels/argmax.h"
#include "test_util.h"
#include "weights_tools/convert.h"
#include "weights_tools/torch_checkpoint.h"

namespace sc::test {
namespace {

TEST(DemoModel, ConvertedCheckpointReproducesPyTorchAccuracy) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"))
    GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed";
  const std::string pt = fixture_dir() + "/../../models/lenet_fmnist_sigma0.25.pt";
  const auto ckpt = torchfile::read_checkpoint(pt);
  const pickle::Value* acc = ckpt.root->get("test_accuracy");
  ASSERT_TRUE(acc && acc->kind == pickle::Value::Kind::Float);
  ConvertOptions o;
  o.dataset = "fashion-mnist";
  o.mean = {0.2860f};
  o.std = {0.3530f};
  ConvertedModel c = convert_checkpoint(pt, o);
  auto data = io::open_dataset("fashion-mnist");
  int64_t correct = 0;
  for (int64_t b = 0; b < data->size(); b += 1000) {
    const Tensor pred = ops::argmax(c.model->forward(data->images(b, b + 1000)));
    for (int64_t i = 0; i < 1000; ++i) correct += pred.data<int64_t>()[i] == data->label(b + i);
  }
  const double ours = static_cast<double>(correct) / static_cast<double>(data->size());
  EXPECT_NEAR(ours, acc->real, 2.5e-4) << "PyTorch measured " << acc->real;  // at most 2 of 10,000 images differ
  std::printf("[demo model] test accuracy %.4f here, %.4f in PyTorch\n", ours, acc->real);
}

}  // namespace
}  // namespace sc::test
