// Noise schedules of improved/guided-diffusion in float64, and the timestep that matches a smoothing noise level:
// images live in [−1, 1], so noise σ in [0,1] pixel space is 2σ there, and t*(σ) is the smallest t ≥ 1 with
// √(1 − ᾱ_t)/√ᾱ_t ≥ 2σ (Carlini et al. 2023).
#pragma once
#include <string>
#include <vector>

namespace sc::diffusion {

struct Schedule {
  std::string name;                     // "cosine" or "linear"
  std::vector<double> betas, alphas_cumprod;
  int64_t steps() const { return static_cast<int64_t>(betas.size()); }
};

// cosine: ᾱ(s) = cos²((s/T + 0.008)/1.008 · π/2), β_i = min(1 − ᾱ((i+1)/T)/ᾱ(i/T), 0.999);
// linear: β evenly from 1e-4·1000/T to 0.02·1000/T. ᾱ_t = Π_{i ≤ t} (1 − β_i).
Schedule make_schedule(const std::string& name, int64_t steps);
int64_t timestep_for_sigma(const Schedule& s, double sigma);

}  // namespace sc::diffusion
