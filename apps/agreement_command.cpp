// smoothcuda agreement: how often the reduced precisions of the fast path give the float32 prediction on the
// noisy samples that certification classifies. A certificate holds for the network as evaluated, so this is
// the measurement behind --precision auto (docs/PRECISION.md).
#include <cstdio>

#include "apps/args.h"
#include "apps/commands.h"
#include "apps/image_selection.h"
#include "apps/model_options.h"
#include "io/dataset.h"
#include "smoothing/noise.h"

namespace sc::app {

int agreement_command(int argc, char** argv) {
  Args args("agreement",
            "Classifies noisy samples of DATASET images with MODEL in fp32 and in tf32, bf16 and fp16 (fast "
            "engine) and prints the share of samples whose prediction agrees with fp32.");
  args.positional("DATASET", "as for certify")
      .positional("MODEL", "smoothcuda model file or PyTorch checkpoint")
      .positional("SIGMA", "noise level σ")
      .option("skip", "100", "every skip-th image")
      .option("max", "-1", "stop before this image index (-1: all)")
      .option("split", "test", "train or test")
      .option("data-dir", "", "dataset root (default $SMOOTHCUDA_DATA)")
      .option("samples", "1000", "noisy samples per image")
      .option("seed", "0", "noise seed")
      .option("device", "cpu", "cpu, cuda or cuda:K");
  add_model_options(args);
  if (!args.parse(argc, argv, 2)) return 0;
  const Device device = Device::parse(args.get("device"));
  auto data = io::open_dataset(args.get("DATASET"), {args.get("split"), args.get("data-dir")});
  auto model = load_any_model(args.get("MODEL"), device, model_options(args, args.get("DATASET")));
  const int64_t samples = args.get_int("samples", 1, 1 << 20);
  const std::vector<int64_t> todo =
      select_indices(data->size(), args.get_int("skip", 1, 1LL << 40), args.get_int("max", -1, 1LL << 40));
  const Precision precisions[] = {Precision::FP32, Precision::TF32, Precision::BF16, Precision::FP16};
  const Plan plan = build_plan(*model);  // one lowering, run in every precision
  std::vector<std::unique_ptr<FastClassifier>> nets;
  for (Precision p : precisions) nets.push_back(std::make_unique<FastClassifier>(*model, plan, p));
  int64_t agree[4] = {0, 0, 0, 0}, total = 0;
  for (int64_t i : todo) {
    NoisyInput in;
    in.images = Tensor::empty({1, model->spec.channels, model->spec.height, model->spec.width});
    data->read_image(i, in.images.data<float>());
    in.sigma = static_cast<float>(args.get_double("SIGMA", 1e-6, 10));
    in.seed = static_cast<uint64_t>(args.get_int("seed", 0, INT64_MAX));
    in.phase = noise::kEstimation;
    in.spans = {{samples, 0, static_cast<uint32_t>(i), 0}};
    const std::vector<float> ref = nets[0]->predict_noisy_labels(in).astype(DType::F32).to_float_vector();
    for (size_t k = 1; k < nets.size(); ++k) {
      const std::vector<float> got = nets[k]->predict_noisy_labels(in).astype(DType::F32).to_float_vector();
      for (size_t s = 0; s < got.size(); ++s) agree[k] += got[s] == ref[s];
    }
    total += samples;
  }
  std::printf("| model | σ | images | samples | tf32 | bf16 | fp16 |\n|---|---:|---:|---:|---:|---:|---:|\n");
  std::printf("| %s | %g | %zu | %lld | %.4f%% | %.4f%% | %.4f%% |\n", args.get("MODEL").c_str(),
              args.get_double("SIGMA", 1e-6, 10), todo.size(), static_cast<long long>(total),
              100.0 * static_cast<double>(agree[1]) / static_cast<double>(total),
              100.0 * static_cast<double>(agree[2]) / static_cast<double>(total),
              100.0 * static_cast<double>(agree[3]) / static_cast<double>(total));
  return 0;
}

}  // namespace sc::app
