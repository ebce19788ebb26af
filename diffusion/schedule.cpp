#include "diffusion/schedule.h"

#include <algorithm>
#include <cmath>

#include "nn/error.h"

namespace sc::diffusion {

Schedule make_schedule(const std::string& name, int64_t T) {
  SC_CHECK(T >= 2 && T <= 100000, "diffusion steps must be in [2, 100000], got ", T);
  Schedule s;
  s.name = name;
  if (name == "cosine") {
    auto abar = [](double u) {
      const double c = std::cos((u + 0.008) / 1.008 * M_PI / 2);
      return c * c;
    };
    for (int64_t i = 0; i < T; ++i)
      s.betas.push_back(std::min(1.0 - abar(static_cast<double>(i + 1) / T) / abar(static_cast<double>(i) / T), 0.999));
  } else if (name == "linear") {
    const double scale = 1000.0 / static_cast<double>(T), lo = scale * 1e-4, hi = scale * 0.02;
    for (int64_t i = 0; i < T; ++i) s.betas.push_back(lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(T - 1));
  } else {
    SC_FAIL("unknown noise schedule '", name, "' (cosine or linear)");
  }
  double prod = 1.0;
  for (double b : s.betas) s.alphas_cumprod.push_back(prod *= 1.0 - b);
  return s;
}

int64_t timestep_for_sigma(const Schedule& s, double sigma) {
  SC_CHECK(sigma > 0 && std::isfinite(sigma), "denoising needs a positive noise level, got ", sigma);
  for (int64_t t = 1; t < s.steps(); ++t) {
    const double a = s.alphas_cumprod[static_cast<size_t>(t)];
    if (std::sqrt(1.0 - a) / std::sqrt(a) >= 2.0 * sigma) return t;
  }
  SC_FAIL("noise level ", sigma, " is beyond the schedule's last step (", s.name, ", ", s.steps(), " steps)");
}

}  // namespace sc::diffusion
