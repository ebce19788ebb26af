// smoothcuda agreement: how often the reduced precisions of the fast path give the float32 prediction on the
// noisy samples that certification classifies (the classifier alone, or DDS / DiffSmooth with the denoiser in
// the same precision). A certificate holds for the network as evaluated, so this is
// the measurement behind --precision auto (docs/PRECISION.md).
#include <cstdio>

#include "apps/args.h"
#include "apps/commands.h"
#include "apps/image_selection.h"
#include "apps/model_options.h"
#include "apps/progress.h"
#include "diffusion/denoised_classifier.h"
#include "io/dataset.h"
#include "smoothing/noise.h"

namespace sc::app {

int agreement_command(int argc, char** argv) {
  Args args(
      "agreement",
      "Classifies noisy samples of DATASET images with MODEL (optionally behind a diffusion denoiser) in "
      "fp32 and in tf32, bf16 and fp16 (fast engine) and prints the share of samples whose prediction "
      "agrees with fp32.");
  args.positional("DATASET", "as for certify")
      .positional("MODEL", "smoothcuda model file or PyTorch checkpoint")
      .positional("SIGMA", "noise level σ")
      .option("skip", "100", "every skip-th image")
      .option("max", "-1", "stop before this image index (-1: all)")
      .option("split", "test", "train or test")
      .option("data-dir", "", "dataset root (default $SMOOTHCUDA_DATA)")
      .option("samples", "1000", "noisy samples per image")
      .option("batch", "1000", "noisy samples per forward pass")
      .option("seed", "0", "noise seed")
      .option("device", "cpu", "cpu, cuda or cuda:K")
      .option("denoiser", "",
              "diffusion model file: measure DDS, the denoiser and the classifier in each precision")
      .option("local-noise-sd", "0", "DiffSmooth: local smoothing noise σ' on the denoised image")
      .option("m", "0", "DiffSmooth: number of local noise draws (0: plain DDS)");
  add_model_options(args);
  if (!args.parse(argc, argv, 2)) return 0;
  const Device device = Device::parse(args.get("device"));
  auto data = io::open_dataset(args.get("DATASET"), {args.get("split"), args.get("data-dir")});
  auto model = load_classifier(args, device, args.get("DATASET"));
  const double sigma = args.get_double("SIGMA", 1e-6, 10);
  const int64_t samples = args.get_int("samples", 1, 1 << 20), batch = args.get_int("batch", 1, 1 << 24);
  const auto seed = static_cast<uint64_t>(args.get_int("seed", 0, INT64_MAX));
  const int64_t local_m = args.get_int("m", 0, 1000);
  const double local_sigma = args.get_double("local-noise-sd", 0, 10);
  const std::vector<int64_t> todo = select_indices(data->size(), parse_selection(args));

  // The same network in each precision on the fast engine (its plan, or the fast transformer); with a
  // denoiser, both parts in that precision (DenoisedClassifier materializes the same noisy samples for each).
  const Precision precisions[] = {Precision::FP32, Precision::TF32, Precision::BF16, Precision::FP16};
  DiffusionModel denoiser;
  if (!args.get("denoiser").empty()) denoiser = load_diffusion_model(args.get("denoiser"), device);
  std::vector<std::unique_ptr<BaseClassifier>> nets;
  for (Precision p : precisions) {
    std::string note;
    auto fast = make_base_classifier(*model, "fast", p, note);
    if (!denoiser.unet) {
      nets.push_back(std::move(fast));
      continue;
    }
    auto dds = std::make_unique<DenoisedClassifier>(denoiser, *model, sigma, local_m, local_sigma, seed,
                                                    std::move(fast),
                                                    std::make_unique<FastDenoiser>(denoiser, sigma, p));
    dds->set_input_size(data->image_shape()[1], data->image_shape()[2]);  // DDS runs at the images' size
    nets.push_back(std::move(dds));
  }
  SC_CHECK(data->image_shape() == nets[0]->input_shape(), "dataset images are ",
           shape_str(data->image_shape()), " but the model expects ", shape_str(nets[0]->input_shape()));

  int64_t agree[4] = {0, 0, 0, 0}, total = 0;
  size_t done = 0;
  Progress progress("agreement", static_cast<int64_t>(todo.size()));
  for (int64_t i : todo) {
    NoisyInput in;
    const Shape shape = data->image_shape();
    in.images = Tensor::empty({1, shape[0], shape[1], shape[2]});
    data->read_image(i, in.images.data<float>());
    in.images = in.images.to(device);
    in.sigma = static_cast<float>(sigma);
    in.seed = seed;
    in.phase = noise::kEstimation;
    for (int64_t first = 0; first < samples; first += batch) {
      in.spans = {
          {std::min(batch, samples - first), 0, static_cast<uint32_t>(i), static_cast<uint32_t>(first)}};
      const std::vector<float> ref = nets[0]->predict_noisy_labels(in).astype(DType::F32).to_float_vector();
      for (size_t k = 1; k < nets.size(); ++k) {
        const std::vector<float> got = nets[k]->predict_noisy_labels(in).astype(DType::F32).to_float_vector();
        for (size_t s = 0; s < got.size(); ++s) agree[k] += got[s] == ref[s];
      }
    }
    total += samples;
    progress.update(static_cast<int64_t>(++done));
  }
  progress.finish();
  std::string what = args.get("MODEL");
  if (denoiser.unet) what = args.get("denoiser") + " + " + what;
  if (denoiser.unet && local_m > 0)
    what += " (local smoothing: m " + std::to_string(local_m) + ", σ' " + args.get("local-noise-sd") + ")";
  std::printf("| model | σ | images | samples | tf32 | bf16 | fp16 |\n|---|---:|---:|---:|---:|---:|---:|\n");
  std::printf("| %s | %g | %zu | %lld | %.4f%% | %.4f%% | %.4f%% |\n", what.c_str(), sigma, todo.size(),
              static_cast<long long>(total),
              100.0 * static_cast<double>(agree[1]) / static_cast<double>(total),
              100.0 * static_cast<double>(agree[2]) / static_cast<double>(total),
              100.0 * static_cast<double>(agree[3]) / static_cast<double>(total));
  return 0;
}

}  // namespace sc::app
