// smoothcuda: one binary, one subcommand per job. Errors become one line on stderr and exit code 1.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "apps/commands.h"

namespace {
void print_help() {
  std::puts(
      "smoothcuda: certified robustness of image classifiers (randomized smoothing) in C++/CUDA\n\n"
      "usage: smoothcuda COMMAND [arguments]\n\n"
      "commands:\n"
      "  certify DATASET MODEL SIGMA OUTFILE   certified radii of the smoothed classifier (Cohen et al.)\n"
      "  predict DATASET MODEL SIGMA OUTFILE   predictions of the smoothed classifier\n"
      "  analyze FILE...        certified accuracy tables and plot\n"
      "  merge OUTFILE PART...  the files of a run split by --shard, joined\n"
      "  visualize DATASET IDX SIGMAS --out DIR  an image under noise, as PNGs\n"
      "  denoise UNET SIGMA IN.npy OUT.npy   one-shot (or --multistep) diffusion denoising\n"
      "  sample UNET --out grid.png          DDPM samples of a diffusion model\n"
      "  convert SRC DST        PyTorch checkpoint -> smoothcuda model file (.safetensors)\n"
      "  eval DATASET MODEL     accuracy and throughput of a classifier; optional logits output\n"
      "  bench-certify          certification throughput on random weights (bench/certify_throughput.sh)\n"
      "  agreement DATASET MODEL SIGMA   how often tf32/bf16/fp16 predictions agree with fp32 on noisy "
      "samples\n"
      "  ood IN_DATASET MODEL --ood SETS   out-of-distribution detection: AUROC, AUPR, FPR95, plots\n"
      "  attack DATASET MODEL --out DIR    FGSM, PGD (linf/l2) and SmoothAdv adversarial examples\n"
      "  train DATASET OUTDIR --arch A     SGD training, with Gaussian noise augmentation (--noise-sd)\n"
      "  train-denoiser DATASET OUTDIR --arch dncnn   a denoiser for denoised smoothing (Salman et al.)\n"
      "  info                   build, devices and architectures\n\n"
      "`smoothcuda COMMAND --help` describes a command.");
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    print_help();
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  try {
    if (cmd == "eval") return sc::app::eval_command(argc, argv);
    if (cmd == "bench-certify") return sc::app::bench_certify_command(argc, argv);
    if (cmd == "agreement") return sc::app::agreement_command(argc, argv);
    if (cmd == "ood") return sc::app::ood_command(argc, argv);
    if (cmd == "attack") return sc::app::attack_command(argc, argv);
    if (cmd == "train") return sc::app::train_command(argc, argv);
    if (cmd == "train-denoiser") return sc::app::train_denoiser_command(argc, argv);
    if (cmd == "info") return sc::app::info_command(argc, argv);
    if (cmd == "convert") return sc::app::convert_command(argc, argv);
    if (cmd == "certify") return sc::app::certify_command(argc, argv);
    if (cmd == "predict") return sc::app::predict_command(argc, argv);
    if (cmd == "analyze") return sc::app::analyze_command(argc, argv);
    if (cmd == "merge") return sc::app::merge_command(argc, argv);
    if (cmd == "visualize") return sc::app::visualize_command(argc, argv);
    if (cmd == "denoise") return sc::app::denoise_command(argc, argv);
    if (cmd == "sample") return sc::app::sample_command(argc, argv);
    std::fprintf(stderr, "smoothcuda: unknown command '%s' (see smoothcuda --help)\n", cmd.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "smoothcuda %s: error: %s\n", cmd.c_str(), e.what());
    return 1;
  }
}
