// The fast path's one-shot denoiser: the diffusion UNet at the fixed timestep t*(σ) run on NHWC maps in a
// chosen Precision (engine/precision.h), with fused_conv for every convolution (residual adds in their
// epilogues), group_norm_nhwc with the SiLU and the timestep embedding folded in (scale-shift: γ(1 + s), β(1
// + s) + shift; plain: the embedding added to the previous convolution's bias), attention_nhwc, and only the
// ε channels of the last convolution computed. Same math as denoise_one_shot (diffusion/denoiser.h).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "diffusion/denoiser.h"
#include "engine/precision.h"

namespace sc {

class FastDenoiser {
 public:
  // Lowers the model's UNet for its current device; throws sc::Error naming what has no fast path.
  FastDenoiser(DiffusionModel& model, double sigma, Precision precision);
  ~FastDenoiser();
  // x: [B, C, H, W] float32 noisy images in [0, 1] on the model's device; returns the denoised images in [0,
  // 1].
  Tensor denoise(const Tensor& x);
  Precision precision() const { return precision_; }
  // 2·multiply-adds per sample for H×W inputs (convolutions and attention products).
  double flops_per_sample(int64_t height, int64_t width) const;
  // The first convolution's input channels: the image's, zero-padded to a multiple of 8 in bf16/fp16 and of 4
  // in tf32 so that it runs on tensor cores.
  int64_t input_channels() const;

  struct Program;  // the recorded steps

 private:
  DiffusionModel& model_;
  OneShotStep step_;
  Precision precision_;
  std::unique_ptr<Program> program_;
};

// The same count for any UNet, without lowering it (for the generic denoiser's benchmark rows).
double denoiser_flops_per_sample(DiffusionModel& model, int64_t height, int64_t width);

// A FastDenoiser when `engine` allows it ("fast" requires it, "generic" never, "auto" falls back to the
// generic UNet and says why in `note`); null means the generic denoiser.
std::unique_ptr<FastDenoiser> make_fast_denoiser(DiffusionModel& model, double sigma,
                                                 const std::string& engine, Precision precision,
                                                 std::string& note);

}  // namespace sc
