// One-shot diffusion denoising (Carlini et al. 2023, in DiffSmooth's convention): a noisy image x in [0,1] at
// level σ becomes x_t = √ᾱ·(2x − 1) at t = t*(σ); the UNet predicts ε (its first C output channels); the
// clean estimate x̂ = clip(√(1/ᾱ)·x_t − √(1/ᾱ − 1)·ε, −1, 1) is returned in [0,1] as (x̂ + 1)/2.
#pragma once
#include <memory>
#include <string>

#include "diffusion/schedule.h"
#include "diffusion/unet.h"
#include "io/safetensors.h"

namespace sc {

struct DiffusionModel {
  std::unique_ptr<UNet> unet;
  diffusion::Schedule schedule;
  bool rescale_timesteps = true;  // the network receives t·1000/T (improved-diffusion's default)
};

// A model file written by `smoothcuda convert --arch iddpm_unet|adm_unet ...` (or a checkpoint converted with
// `options` flags: diffusion_steps, noise_schedule, rescale_timesteps and the UNet's flags).
DiffusionModel load_diffusion_model(const std::string& path, Device device,
                                    const std::map<std::string, std::string>& checkpoint_flags = {});
// The same from a model file's parsed contents; `what` names the file in errors.
DiffusionModel diffusion_model_from_safetensors(const io::Safetensors& file, const std::string& what);
bool is_diffusion_arch(const std::string& arch);
// A diffusion model with freshly initialized (unloaded) parameters from the reference scripts' flags (UNet
// flags plus diffusion_steps, noise_schedule, rescale_timesteps); `what` names the source in errors.
DiffusionModel build_diffusion_model(const std::string& arch, std::map<std::string, std::string> flags,
                                     const std::string& what);
// `smoothcuda convert` for diffusion checkpoints: the UNet built from the reference scripts' flags (which
// must fit the checkpoint, key for key), written with its flags, the schedule flags and the source's sha256.
void convert_diffusion_checkpoint(const std::string& src, const std::string& dst, const std::string& arch,
                                  const std::map<std::string, std::string>& flags);
// Writes the UNet's weights (on any device) with its flags and the schedule's, plus `extra` metadata.
void save_diffusion_model(const std::string& path, DiffusionModel& model,
                          const std::map<std::string, std::string>& extra = {});

// x: [B, C, H, W] noisy images in [0,1] at noise level sigma; returns the denoised images in [0,1].
Tensor denoise_one_shot(DiffusionModel& model, const Tensor& x, double sigma);

// The pieces of denoise_one_shot that any back end shares: the step t* for σ, the network's input x_t and its
// timestep, and the clean estimate from x_t and the predicted ε (both [B, C, H, W] float32).
struct OneShotStep {
  int64_t t = 0;
  double abar = 1.0;
  float t_input = 0.0f;  // the timestep as the network receives it (rescaled when the model rescales)
};
OneShotStep one_shot_step(const DiffusionModel& model, double sigma);
Tensor one_shot_input(const OneShotStep& step, const Tensor& x);
Tensor one_shot_estimate(const OneShotStep& step, const Tensor& xt, const Tensor& eps);

}  // namespace sc
