#include "diffusion/sampler.h"

#include <cmath>

#include "kernels/ddpm_step.h"
#include "kernels/elementwise.h"
#include "kernels/gaussian_noise.h"
#include "smoothing/noise.h"

namespace sc {

std::vector<int64_t> respaced_timesteps(int64_t steps, int64_t count) {
  SC_CHECK(count >= 1 && count <= steps, "respacing: cannot take ", count, " of ", steps, " steps");
  if (count == 1) return {0};
  // As the reference: a running float index advanced by the stride, rounded half to even (Python's round()).
  std::vector<int64_t> kept;
  const double stride = static_cast<double>(steps - 1) / static_cast<double>(count - 1);
  double cur = 0.0;
  for (int64_t i = 0; i < count; ++i, cur += stride) kept.push_back(static_cast<int64_t>(std::nearbyint(cur)));
  return kept;
}

Tensor ddpm_step_at(DiffusionModel& m, const Tensor& x, const std::vector<int64_t>& kept, int64_t k, const Tensor& z) {
  SC_CHECK(k >= 0 && k < static_cast<int64_t>(kept.size()), "ddpm step ", k, " out of range");
  const auto& abar_all = m.schedule.alphas_cumprod;
  auto abar = [&](int64_t j) { return j < 0 ? 1.0 : abar_all[static_cast<size_t>(kept[static_cast<size_t>(j)])]; };
  auto beta = [&](int64_t j) { return 1.0 - abar(j) / abar(j - 1); };
  auto post_var = [&](int64_t j) { return beta(j) * (1.0 - abar(j - 1)) / (1.0 - abar(j)); };
  // The reference replaces the first (zero) posterior variance by the second one.
  const double clipped0 = kept.size() > 1 ? post_var(1) : beta(0);
  const double a = abar(k), prev = abar(k - 1), b = beta(k);
  DdpmCoefficients c;
  c.c_x = static_cast<float>(std::sqrt(1.0 / a));
  c.c_eps = static_cast<float>(std::sqrt(1.0 / a - 1.0));
  c.m0 = static_cast<float>(b * std::sqrt(prev) / (1.0 - a));
  c.mt = static_cast<float>((1.0 - prev) * std::sqrt(1.0 - b) / (1.0 - a));
  const bool learned = m.unet->config().learn_sigma;
  // Learned: interpolate between the clipped posterior and β; fixed-large: β (the clipped posterior at k = 0).
  c.log_min = static_cast<float>(std::log(learned ? (k ? post_var(k) : clipped0) : (k ? b : clipped0)));
  c.log_max = static_cast<float>(std::log(b));
  const int64_t B = x.size(0), C = x.size(1);
  const double t_in = m.rescale_timesteps ? kept[static_cast<size_t>(k)] * 1000.0 / static_cast<double>(m.schedule.steps())
                                          : static_cast<double>(kept[static_cast<size_t>(k)]);
  const Tensor out = m.unet->forward(x, Tensor::full({B}, static_cast<float>(t_in), x.device()));
  const Tensor eps = out.slice(1, 0, C).contiguous();
  const Tensor v = learned ? out.slice(1, C, 2 * C).contiguous() : Tensor();
  return ops::ddpm_step(x, eps, v, k == 0 ? Tensor() : z, c);
}

Tensor ddpm_sample_loop(DiffusionModel& m, Tensor x, const std::vector<int64_t>& kept, uint64_t seed) {
  const int64_t B = x.size(0), per = x.numel() / B;
  const Tensor zeros = Tensor::zeros({per}, DType::F32, x.device());
  for (int64_t k = static_cast<int64_t>(kept.size()) - 1; k >= 0; --k) {
    const Tensor z = k == 0 ? Tensor()
                            : ops::add_gaussian_noise(zeros, B, 1.0f,
                                                      NoiseKey{seed, static_cast<uint32_t>(k), noise::kDiffusionSampling}, 0)
                                  .reshape(x.shape());
    x = ddpm_step_at(m, x, kept, k, z);
  }
  return x;
}

Tensor denoise_multistep(DiffusionModel& m, const Tensor& x, double sigma, uint64_t seed) {
  const int64_t t = diffusion::timestep_for_sigma(m.schedule, sigma);
  const double sa = std::sqrt(m.schedule.alphas_cumprod[static_cast<size_t>(t)]);
  std::vector<int64_t> kept(static_cast<size_t>(t + 1));
  for (int64_t i = 0; i <= t; ++i) kept[static_cast<size_t>(i)] = i;
  const Tensor x0 = ddpm_sample_loop(m, ops::affine(x, static_cast<float>(2 * sa), static_cast<float>(-sa)), kept, seed);
  return ops::affine(ops::combine(1.0f, x0, 0.0f, x0, -1.0f, 1.0f), 0.5f, 0.5f);
}

}  // namespace sc
