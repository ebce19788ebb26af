// smoothcuda eval DATASET MODEL: clean accuracy and images/s of a classifier, optionally saving the logits.
#include <chrono>
#include <cstdio>

#include "apps/args.h"
#include "apps/commands.h"
#include "apps/dataset_logits.h"
#include "apps/image_selection.h"
#include "apps/model_options.h"
#include "io/dataset.h"
#include "io/npy.h"
#include "kernels/argmax.h"

namespace sc::app {

int eval_command(int argc, char** argv) {
  Args args("eval", "Runs MODEL on DATASET and prints its accuracy and throughput.");
  args.positional("DATASET",
                  "cifar10, cifar100, imagenet, mnist, fashion-mnist, folder:PATH, "
                  "npy:IMAGES.npy[:LABELS.npy], fake:N:C:H:W")
      .positional("MODEL",
                  "a smoothcuda model file (.safetensors) or a PyTorch checkpoint (.pt, .pth, .pth.tar, .th)")
      .option("split", "test", "train or test")
      .option("data-dir", "", "dataset root (default $SMOOTHCUDA_DATA)")
      .option("skip", "1", "evaluate every skip-th image")
      .option("max", "-1", "stop when the index reaches max (-1: all), as Cohen's scripts")
      .option("batch", "256", "images per forward pass")
      .option("device", "cpu", "cpu, cuda or cuda:K")
      .option("out", "", "write the float32 logits [n, classes] here (.npy)");
  add_model_options(args);
  add_engine_options(args);
  if (!args.parse(argc, argv, 2)) return 0;

  const Device device = Device::parse(args.get("device"));
  auto data = io::open_dataset(args.get("DATASET"), {args.get("split"), args.get("data-dir")});
  auto model = load_classifier(args, device, args.get("DATASET"));
  const int64_t batch = args.get_int("batch", 1, 1 << 20);
  const std::vector<int64_t> indices = select_indices(data->size(), parse_selection(args));
  const int64_t n = static_cast<int64_t>(indices.size());
  SC_CHECK(n > 0, "eval: no images selected");
  const auto base = make_classifier(args, *model, device);
  const auto t0 = std::chrono::steady_clock::now();
  const Tensor logits = dataset_logits(*data, indices, *base, batch, "eval");
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const Tensor pred = ops::argmax(logits);
  int64_t correct = 0;
  for (int64_t k = 0; k < n; ++k)
    correct += pred.data<int64_t>()[k] == data->label(indices[static_cast<size_t>(k)]);
  std::printf("dataset %s (%s), model %s (%s) on %s\n", data->name().c_str(), args.get("split").c_str(),
              args.get("MODEL").c_str(), model->spec.arch.c_str(), device.str().c_str());
  std::printf("accuracy %.4f (%lld/%lld)  %.1f images/s\n", static_cast<double>(correct) / n,
              static_cast<long long>(correct), static_cast<long long>(n), n / secs);
  if (!args.get("out").empty()) io::write_npy(args.get("out"), logits);
  return 0;
}

}  // namespace sc::app
