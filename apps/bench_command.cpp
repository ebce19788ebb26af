// smoothcuda bench-certify: certification throughput of a classifier (optionally behind a diffusion denoiser)
// on random weights, the smoothcuda side of bench/certify_throughput.sh. It times Monte Carlo sampling
// exactly as certify runs it (Smooth::sample_counts: noise, forward, argmax, counts on the device) after a
// warm-up, and reports noisy samples/s and the seconds one image would take at N0 + N samples. --save-model
// writes the random classifier, so that the PyTorch reference runs the very same weights.
#include <chrono>
#include <cstdio>
#include <fstream>

#include "apps/args.h"
#include "apps/commands.h"
#include "apps/model_options.h"
#include "diffusion/denoised_classifier.h"
#include "diffusion/denoiser.h"
#include "engine/fast_transformer.h"
#include "nn/models/model_file.h"
#include "nn/models/random_init.h"
#include "nn/runtime.h"
#include "nn/stream.h"
#include "smoothing/smooth.h"

namespace sc::app {

namespace {

// The CIFAR-10 denoiser of Carlini et al. (improved-diffusion cifar10_uncond_50M_500K flags, REFERENCE.md).
const char* kCifarDenoiserFlags =
    "image_size=32,num_channels=128,num_res_blocks=3,learn_sigma=True,dropout=0.3,diffusion_steps=4000,"
    "noise_schedule=cosine";


}  // namespace

int bench_certify_command(int argc, char** argv) {
  Args args(
      "bench-certify",
      "Times certification sampling (noisy samples/s) of a random-weight classifier, optionally behind a "
      "random-weight diffusion denoiser (DDS).");
  args.option("arch", "cifar_resnet110", "classifier architecture")
      .option("arch-flags", "",
              "the classifier's flags, key=value,... (beit_large_patch16_512: dim=1024,depth=24,heads=16)")
      .option("input-shape", "3,32,32", "C,H,W of the classifier's input (and of the noisy samples)")
      .option("num-classes", "10", "classes")
      .option("sample-shape", "",
              "C,H,W of the noisy samples when they differ from the classifier's input (DDS: "
              "the denoiser's output is resized to it, as CIFAR-10 images for a ViT at 224x224)")
      .option("denoiser-arch", "", "iddpm_unet or adm_unet: put a random denoiser in front (DDS)")
      .option("denoiser-flags", kCifarDenoiserFlags,
              "the denoiser's flags, key=value,... (a list value goes on: attention_resolutions=32,16,8)")
      .option("device", "cuda", "cpu, cuda or cuda:K")
      .option("batch", "1000", "noisy samples per forward pass, or auto (as certify's)")
      .option("samples", "100000", "samples to time")
      .option("warmup", "0", "samples before timing (0: two batches)")
      .option("sigma", "0.25", "noise level")
      .option("N0", "100", "selection samples per image, for the seconds-per-image figure")
      .option("N", "100000", "estimation samples per image, for the seconds-per-image figure")
      .option("seed", "0", "weights and noise seed")
      .option("save-model", "", "write the random classifier here (a smoothcuda model file)")
      .option("save-denoiser", "", "write the random denoiser here (a smoothcuda diffusion model file)")
      .option("json", "", "append the result as one JSON line to this file");
  add_engine_options(args);
  if (!args.parse(argc, argv, 2)) return 0;

  const Device device = Device::parse(args.get("device"));
  const auto seed = static_cast<uint64_t>(args.get_int("seed", 0, INT64_MAX));
  ModelSpec spec;
  spec.arch = args.get("arch");
  const std::vector<float> shape = parse_floats(args.get("input-shape"), "--input-shape");
  SC_CHECK(shape.size() == 3, "--input-shape: expected C,H,W");
  spec.channels = static_cast<int64_t>(shape[0]), spec.height = static_cast<int64_t>(shape[1]);
  spec.width = static_cast<int64_t>(shape[2]);
  spec.num_classes = args.get_int("num-classes", 1, 1 << 20);
  if (!args.get("arch-flags").empty()) spec.flags = parse_flags(args.get("arch-flags"), "--arch-flags");
  if (spec.channels == 3) spec.mean = {0.4914f, 0.4822f, 0.4465f}, spec.std = {0.2023f, 0.1994f, 0.2010f};
  ConvertOptions given;  // the shape as given: only the published checkpoints' normalization applies
  given.input_shape = {spec.channels, spec.height, spec.width};
  apply_checkpoint_conventions(spec, given);
  Shape samples_shape = {spec.channels, spec.height, spec.width};
  if (!args.get("sample-shape").empty()) {
    const std::vector<float> s = parse_floats(args.get("sample-shape"), "--sample-shape");
    SC_CHECK(s.size() == 3 && s[0] == static_cast<float>(spec.channels) && s[1] >= 1 && s[2] >= 1,
             "--sample-shape: expected C,H,W with the classifier's ", spec.channels, " channels");
    SC_CHECK(!args.get("denoiser-arch").empty(),
             "--sample-shape needs --denoiser-arch (its output is resized)");
    samples_shape = {spec.channels, static_cast<int64_t>(s[1]), static_cast<int64_t>(s[2])};
  }
  auto model = build_model(spec);
  randomize_parameters(*model, seed);
  if (!args.get("save-model").empty()) save_model(args.get("save-model"), *model);
  model->to(device);

  std::unique_ptr<BaseClassifier> base;
  DiffusionModel denoiser;
  const double sigma = args.get_double("sigma", 1e-6, 10);
  std::string engine;
  if (args.get("denoiser-arch").empty()) {
    base = make_classifier(args, *model, device);
    engine = runs_on_fast_engine(*base) ? "fast" : "generic";
  } else {
    denoiser =
        build_diffusion_model(args.get("denoiser-arch"),
                              parse_flags(args.get("denoiser-flags"), "--denoiser-flags"), "--denoiser-arch");
    randomize_parameters(*denoiser.unet, seed + 1);
    if (!args.get("save-denoiser").empty()) save_diffusion_model(args.get("save-denoiser"), denoiser);
    denoiser.unet->to(device);
    base = make_denoised_classifier(args, make_one_shot_denoiser(args, denoiser, sigma, device), *model,
                                    device, samples_shape, 0, 0.0, seed);
    engine = static_cast<DenoisedClassifier&>(*base).engines();
  }
  const int64_t batch = batch_option(args, *base), samples = args.get_int("samples", 1, (1LL << 32) - 1);
  int64_t warmup = args.get_int("warmup", 0, (1LL << 32) - 1);
  if (warmup == 0) warmup = 2 * batch;
  const int64_t N0 = args.get_int("N0", 1, 1LL << 32), N = args.get_int("N", 1, 1LL << 32);

  Tensor image = Tensor::empty(samples_shape);
  for (int64_t i = 0; i < image.numel(); ++i)
    image.data<float>()[i] = static_cast<float>((i * 37 % 101) / 100.0);
  Smooth smooth(*base, sigma, batch, seed);
  smooth.sample_counts(image, 0, noise::kSelection, warmup);
  synchronize(device);
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<int64_t> counts = smooth.sample_counts(image, 1, noise::kEstimation, samples);
  synchronize(device);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double rate = static_cast<double>(samples) / secs;
  int64_t top = 0;
  for (int64_t c : counts) top = std::max(top, c);

  // The fast classifier's cache blocking (engine/schedule.h): its budget, and the chunks it chose.
  // And whether its batches ran as CUDA graphs (nn/cuda_graph.h).
  std::string cache_bytes = "n/a", graphs = "n/a", fused = "n/a";
  // Hopper's wgmma convolutions (fused_conv; off unless SMOOTHCUDA_WGMMA=1 until a device has checked them).
  const std::string wgmma = device.is_cuda() ? (wgmma_conv_enabled() ? "on" : "off") : "n/a";
  if (auto* fast = dynamic_cast<FastClassifier*>(base.get())) {
    const CacheBudget budget = cache_budget(device);
    cache_bytes = budget.bytes > 0 ? std::to_string(budget.bytes) : "off";
    std::fprintf(stderr, "schedule (cache budget %s bytes, batch %lld):\n%s", cache_bytes.c_str(),
                 static_cast<long long>(batch), fast->schedule().summary(fast->plan()).c_str());
    if (device.is_cuda()) {
      graphs = fast->cuda_graphs() ? "on" : "off";
      std::fprintf(stderr, "CUDA graphs %s: %lld batches replayed\n", graphs.c_str(),
                   static_cast<long long>(fast->graph_replays()));
      // Runs of basic blocks as fused stages (ops::residual_stage): how many, or off by the switch.
      fused = env_switch_on("SMOOTHCUDA_FUSED_STAGES") ? std::to_string(fast->fused_stages()) : "off";
      std::fprintf(stderr, "fused residual stages: %s\n", fused.c_str());
    }
  }
  const bool any_fast = engine.find("fast") != std::string::npos;
  const std::string precision = any_fast ? precision_name(chosen_precision(args, device)) : "fp32";
  // The first convolution on 16-bit operands (FastClassifier::set_stem_16bit; off unless
  // SMOOTHCUDA_STEM_16BIT=1), in the fast classifier, alone or behind a denoiser.
  const FastClassifier* fast_classifier = dynamic_cast<FastClassifier*>(base.get());
  if (const auto* dds = dynamic_cast<DenoisedClassifier*>(base.get()))
    fast_classifier = dds->fast_classifier();
  const bool stem_16bit = fast_classifier != nullptr && fast_classifier->stem_16bit();
  // Work per sample, for TFLOP/s, whichever engine runs it: the classifier's plan, plus the denoiser's pass.
  double flops = 0.0;
  Plan plan;
  std::string why_not;
  if (try_build_plan(*model, plan, why_not)) flops = plan.flops_per_sample();
  if (flops == 0) flops = transformer_flops_per_sample(*model);
  if (denoiser.unet) {
    const double d =
        denoiser_flops_per_sample(denoiser, samples_shape[1], samples_shape[2]);  // the samples' size
    flops = d > 0 && flops > 0 ? flops + d : 0.0;
  }
  const std::string what =
      args.get("denoiser-arch").empty() ? spec.arch : args.get("denoiser-arch") + "+" + spec.arch;
  char line[1024];
  std::snprintf(
      line, sizeof line,
      "{\"tool\": \"smoothcuda\", \"model\": \"%s\", \"input\": \"%s\", \"device\": \"%s\", \"engine\": "
      "\"%s\", \"precision\": \"%s\", \"batch\": %lld, \"samples\": %lld, \"seconds\": %.4f, "
      "\"samples_per_s\": %.1f, \"s_per_image\": %.4f, \"N0\": %lld, \"N\": %lld, \"top_class_share\": %.4f, "
      "\"gflop_per_sample\": %.4f, \"tflops\": %.2f, \"cache_bytes\": \"%s\", \"cuda_graphs\": \"%s\", "
      "\"fused_stages\": \"%s\", \"wgmma\": \"%s\", \"stem_16bit\": \"%s\"}",
      what.c_str(), args.get("input-shape").c_str(), device.str().c_str(), engine.c_str(), precision.c_str(),
      static_cast<long long>(batch), static_cast<long long>(samples), secs, rate,
      static_cast<double>(N0 + N) / rate, static_cast<long long>(N0), static_cast<long long>(N),
      static_cast<double>(top) / static_cast<double>(samples), flops / 1e9, flops * rate / 1e12,
      cache_bytes.c_str(), graphs.c_str(), fused.c_str(), wgmma.c_str(), stem_16bit ? "on" : "off");
  std::printf("%s\n", line);
  if (!args.get("json").empty()) {
    std::ofstream out(args.get("json"), std::ios::app);
    SC_CHECK(out.good(), "cannot write ", args.get("json"));
    out << line << '\n';
  }
  return 0;
}

}  // namespace sc::app
