// Ancestral DDPM sampling (improved-diffusion's p_sample loop) over a subset of the timesteps ("respacing"): for the
// kept steps s_0 < … < s_{K−1}, ᾱ'_k = ᾱ_{s_k} and β'_k = 1 − ᾱ'_k/ᾱ'_{k−1}; each step forms x̂0 from the model's ε,
// the posterior mean, and adds noise with the learned (interpolated) or fixed-large variance, except at the last step.
#pragma once
#include <vector>

#include "diffusion/denoiser.h"

namespace sc {

// `count` of the schedule's steps, evenly spread from 0 to T − 1 (space_timesteps with one section).
std::vector<int64_t> respaced_timesteps(int64_t steps, int64_t count);
// One step k of the respaced process: x at kept[k] → x at kept[k−1] (or the final x̂ at k = 0, where z is unused);
// z: standard normal noise of x's shape.
Tensor ddpm_step_at(DiffusionModel& m, const Tensor& x, const std::vector<int64_t>& kept, int64_t k, const Tensor& z);
// Runs the sampler from x (at timestep kept.back()) down to 0; noise from (seed, step index, kDiffusionSampling).
Tensor ddpm_sample_loop(DiffusionModel& m, Tensor x, const std::vector<int64_t>& kept, uint64_t seed);
// Multistep denoising (Carlini et al.'s variant): x_t* from the noisy image, then every step from t* down to 0.
Tensor denoise_multistep(DiffusionModel& m, const Tensor& x, double sigma, uint64_t seed);

}  // namespace sc
