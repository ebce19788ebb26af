// smoothcuda certify / predict: Cohen et al.'s certify.py and predict.py, with their arguments, output format
// and semantics (every skip-th index, stopping at index max), plus --seed, --device, --resume, --overwrite
// and --shard (one part of the images per process; their rows are those of one run, as the noise depends on
// the seed and the image index alone).
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "apps/args.h"
#include "apps/commands.h"
#include "apps/image_selection.h"
#include "apps/model_options.h"
#include "apps/progress.h"
#include "diffusion/denoised_classifier.h"
#include "io/dataset.h"
#include "nn/stream.h"
#include "smoothing/results_file.h"
#include "smoothing/smooth.h"

namespace sc::app {

namespace {

enum class Job { Certify, Predict };

int run(Job job, int argc, char** argv) {
  const bool certify = job == Job::Certify;
  Args args(
      certify ? "certify" : "predict",
      certify
          ? "Certifies the smoothed classifier on DATASET (Cohen et al.'s CERTIFY): one TSV row per image, "
            "idx label predict radius correct time."
          : "Predicts with the smoothed classifier on DATASET (Cohen et al.'s PREDICT): one TSV row per "
            "image, idx label predict correct time.");
  args.positional("DATASET",
                  "cifar10, cifar100, imagenet, mnist, fashion-mnist, folder:PATH, npy:..., fake:...")
      .positional("MODEL", "smoothcuda model file or PyTorch checkpoint")
      .positional("SIGMA", "noise level σ (in [0,1] pixel units)")
      .positional("OUTFILE", "TSV output")
      .option("batch", "1000",
              "noisy samples per forward pass, or auto (fast engine: enough to fill the device through the "
              "last stage, memory permitting, at least 1000; with --denoiser: as many as fit in half the "
              "free memory, at most 1000)")
      .option("skip", "1", "certify every skip-th image")
      .option("max", "-1", "stop before this image index (-1: all)")
      .option("shard", "0/1",
              "K/N: only part K (from 0) of N interleaved parts of the selected images, e.g. one process per "
              "GPU (--device cuda:K); `smoothcuda merge` joins the parts' files into the rows of one run")
      .option("split", "test", "train or test")
      .option("data-dir", "", "dataset root (default $SMOOTHCUDA_DATA)")
      .option("N", "100000", "number of samples to use")
      .option("alpha", "0.001", "failure probability")
      .option("seed", "0", "noise seed: the same seed gives the same noise on every device")
      .option("device", "cpu", "cpu, cuda or cuda:K")
      .flag("resume", "continue an interrupted run after the last complete row of OUTFILE")
      .flag("overwrite", "replace an existing OUTFILE that holds results")
      .option("denoiser", "",
              "denoise every noisy sample before the classifier: a diffusion model file (DDS), or a denoiser "
              "network such as Salman et al.'s DnCNN (model file or checkpoint; denoised smoothing)")
      .option("local-noise-sd", "0", "DiffSmooth: local smoothing noise σ' on the denoised image")
      .option("m", "0", "DiffSmooth: number of local noise draws (0: plain DDS)");
  if (certify) args.option("N0", "100", "number of samples for selection");
  add_model_options(args);
  add_engine_options(args);
  if (!args.parse(argc, argv, 2)) return 0;

  const double sigma = args.get_double("SIGMA", 1e-6, 1e3);
  const Selection selection = parse_selection(args);
  const int64_t N = args.get_int("N", 1, (1LL << 32) - 1);
  const int64_t N0 = certify ? args.get_int("N0", 1, (1LL << 32) - 1) : 0;
  const double alpha = args.get_double("alpha", 1e-300, 0.5);
  const auto seed = static_cast<uint64_t>(args.get_int("seed", 0, INT64_MAX));
  const Device device = Device::parse(args.get("device"));
  const Shard shard = parse_shard(args.get("shard"), "shard");

  auto data = io::open_dataset(args.get("DATASET"), {args.get("split"), args.get("data-dir")});
  auto model = load_classifier(args, device, args.get("DATASET"));
  std::unique_ptr<BaseClassifier> base_ptr;
  if (args.get("denoiser").empty()) {
    base_ptr = make_classifier(args, *model, device);
  } else {
    base_ptr = make_denoised_classifier(
        args, load_denoiser(args, args.get("denoiser"), device, sigma, args.get("DATASET")), *model, device,
        data->image_shape(), args.get_int("m", 0, 1000), args.get_double("local-noise-sd", 0, 10), seed);
  }
  BaseClassifier& base = *base_ptr;
  const int64_t batch = batch_option(args, base);
  SC_CHECK(data->image_shape() == base.input_shape(), "dataset images are ", shape_str(data->image_shape()),
           " but the model expects ", shape_str(base.input_shape()));
  Smooth smooth(base, sigma, batch, seed);
  ResultsFile out(
      args.get("OUTFILE"),
      certify ? "idx\tlabel\tpredict\tradius\tcorrect\ttime" : "idx\tlabel\tpredict\tcorrect\ttime",
      args.has_flag("resume"), args.has_flag("overwrite"));

  std::vector<int64_t> todo = select_indices(data->size(), selection, shard);
  std::erase_if(todo, [&](int64_t i) { return i <= out.last_index(); });  // a resumed run's rows are kept
  if (out.rows_kept() > 0)
    std::fprintf(stderr, "resuming %s: %lld rows kept, %zu images to go\n", args.get("OUTFILE").c_str(),
                 static_cast<long long>(out.rows_kept()), todo.size());
  Progress progress(certify ? "certify" : "predict", static_cast<int64_t>(todo.size()));
  const auto start = std::chrono::steady_clock::now();
  // When the sample counts are small, several images share each batch: groups of up to batch / N0 images
  // (certify) or batch / N (predict). Rows are identical to one image at a time; the time column is the
  // group's wall time divided by its size.
  const int64_t per_image = certify ? std::min(N0, N) : N;
  const auto group = static_cast<size_t>(std::clamp<int64_t>(batch / per_image, 1, 256));
  for (size_t g = 0; g < todo.size(); g += group) {
    const size_t end = std::min(todo.size(), g + group);
    std::vector<Tensor> xs;
    std::vector<int64_t> idx(todo.begin() + static_cast<std::ptrdiff_t>(g),
                             todo.begin() + static_cast<std::ptrdiff_t>(end));
    for (int64_t i : idx) {
      xs.push_back(Tensor::empty(data->image_shape()));
      data->read_image(i, xs.back().data<float>());
    }
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<Certificate> certs;
    std::vector<int64_t> preds;
    if (certify)
      certs = smooth.certify(xs, idx, N0, N, alpha);
    else
      preds = smooth.predict(xs, idx, N, alpha);
    synchronize(device);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() /
                        static_cast<double>(idx.size());
    for (size_t k = 0; k < idx.size(); ++k) {
      const int64_t i = idx[k], label = data->label(i);
      const int64_t p = certify ? certs[k].prediction : preds[k];
      std::string row = std::to_string(i) + "\t" + std::to_string(label) + "\t" + std::to_string(p) + "\t";
      if (certify) row += format_3g(certs[k].radius) + "\t";
      row += std::to_string(int(p == label)) + "\t" + format_timedelta(secs);
      out.write_row(row);
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    char extra[64];
    std::snprintf(extra, sizeof extra, "%.3g noisy samples/s",
                  static_cast<double>(smooth.samples_drawn()) / elapsed);
    progress.update(static_cast<int64_t>(end), extra);
  }
  progress.finish();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "%s: %zu images in %.1f s (%.3g noisy samples/s) on %s -> %s\n",
               certify ? "certify" : "predict", todo.size(), elapsed,
               static_cast<double>(smooth.samples_drawn()) / std::max(elapsed, 1e-9), device.str().c_str(),
               args.get("OUTFILE").c_str());
  return 0;
}

}  // namespace

int certify_command(int argc, char** argv) {
  return run(Job::Certify, argc, argv);
}
int predict_command(int argc, char** argv) {
  return run(Job::Predict, argc, argv);
}

}  // namespace sc::app
