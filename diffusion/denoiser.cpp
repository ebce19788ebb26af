#include "diffusion/denoiser.h"

#include <cmath>

#include "io/file_util.h"
#include "io/safetensors.h"
#include "io/sha256.h"
#include "kernels/elementwise.h"
#include "nn/parse_number.h"
#include "nn/state_dict.h"
#include "weights_tools/convert.h"
#include "weights_tools/torch_checkpoint.h"

namespace sc {

bool is_diffusion_arch(const std::string& arch) {
  return arch == "iddpm_unet" || arch == "adm_unet";
}

DiffusionModel build_diffusion_model(const std::string& arch, std::map<std::string, std::string> flags,
                                     const std::string& what) {
  DiffusionModel m;
  auto take = [&](const char* key, const std::string& fallback) {
    auto it = flags.find(key);
    return it == flags.end() ? fallback : it->second;
  };
  // Defaults as the reference scripts: improved-diffusion rescales timesteps, guided-diffusion does not.
  const std::string steps = take("diffusion_steps", "1000"), schedule = take("noise_schedule", "linear");
  const std::string rescale = take("rescale_timesteps", arch == "iddpm_unet" ? "True" : "False");
  const auto step_count = parse_int64(steps);
  SC_CHECK(step_count, what, ": --diffusion_steps '", steps, "' is not an integer");
  m.schedule = diffusion::make_schedule(schedule, *step_count);
  m.rescale_timesteps = rescale == "True" || rescale == "true" || rescale == "1";
  m.unet = std::make_unique<UNet>(UNetConfig::from_flags(arch, flags));
  return m;
}

namespace {
// The model the flags describe, loaded with `weights`. A file's flags could describe a UNet of any size: one
// larger than the numbers the file holds cannot load (the load is strict, key for key), so it is refused
// before its weights are allocated.
DiffusionModel diffusion_model_with_weights(const std::string& arch,
                                            const std::map<std::string, std::string>& flags,
                                            const StateDict& weights, const std::string& what) {
  const int64_t needed = UNetConfig::from_flags(arch, flags).parameter_count();
  int64_t held = 0;
  for (const auto& [key, t] : weights) held += t.numel();
  SC_CHECK(needed <= held, what, ": its UNet flags describe ", needed, " parameters, more than the ", held,
           " numbers the file holds (check --num_channels, --channel_mult, --num_res_blocks)");
  DiffusionModel m = build_diffusion_model(arch, flags, what);
  load_state_dict(*m.unet, weights, what);
  return m;
}
}  // namespace

DiffusionModel diffusion_model_from_safetensors(const io::Safetensors& st, const std::string& what) {
  auto arch = st.metadata.find("arch");
  SC_CHECK(arch != st.metadata.end() && is_diffusion_arch(arch->second), what,
           ": not a diffusion model file (arch must be iddpm_unet or adm_unet)");
  std::map<std::string, std::string> flags;
  for (const auto& [k, v] : st.metadata)
    if (k.rfind("flag.", 0) == 0) flags[k.substr(5)] = v;
  return diffusion_model_with_weights(arch->second, flags, st.tensors, what);
}

DiffusionModel load_diffusion_model(const std::string& path, Device device,
                                    const std::map<std::string, std::string>& checkpoint_flags) {
  const std::string what = "'" + path + "'";
  DiffusionModel m;
  if (is_torch_checkpoint_path(path)) {
    auto it = checkpoint_flags.find("arch");
    SC_CHECK(it != checkpoint_flags.end() && is_diffusion_arch(it->second), what,
             ": give --arch iddpm_unet or adm_unet and the UNet's flags to load a diffusion checkpoint");
    auto flags = checkpoint_flags;
    flags.erase("arch");
    auto ckpt = torchfile::read_checkpoint(path);
    m = diffusion_model_with_weights(it->second, flags, torchfile::extract_state_dict(ckpt), what);
  } else {
    m = diffusion_model_from_safetensors(io::read_safetensors(path), what);
  }
  m.unet->to(device);
  return m;
}

void convert_diffusion_checkpoint(const std::string& src, const std::string& dst, const std::string& arch,
                                  const std::map<std::string, std::string>& flags) {
  auto all = flags;
  all["arch"] = arch;
  DiffusionModel m = load_diffusion_model(src, Device::cpu(), all);
  const std::string bytes = io::read_file(src);
  save_diffusion_model(
      dst, m,
      {{"source_file", src.substr(src.find_last_of('/') + 1)}, {"source_sha256", io::sha256_hex(bytes)}});
}

void save_diffusion_model(const std::string& path, DiffusionModel& m,
                          const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> md = extra;
  md["format"] = "smoothcuda-model-1";
  md["arch"] = m.unet->config().arch;
  for (const auto& [k, v] : m.unet->config().to_flags()) md["flag." + k] = v;
  md["flag.diffusion_steps"] = std::to_string(m.schedule.steps());
  md["flag.noise_schedule"] = m.schedule.name;
  md["flag.rescale_timesteps"] = m.rescale_timesteps ? "True" : "False";
  io::write_safetensors(path, state_dict(*m.unet), md);
}

OneShotStep one_shot_step(const DiffusionModel& m, double sigma) {
  OneShotStep s;
  s.t = diffusion::timestep_for_sigma(m.schedule, sigma);
  s.abar = m.schedule.alphas_cumprod[static_cast<size_t>(s.t)];
  s.t_input =
      static_cast<float>(m.rescale_timesteps ? s.t * 1000.0 / static_cast<double>(m.schedule.steps()) : s.t);
  return s;
}

Tensor one_shot_input(const OneShotStep& s, const Tensor& x) {
  const double sa = std::sqrt(s.abar);
  return ops::affine(x, static_cast<float>(2 * sa), static_cast<float>(-sa));  // √ᾱ·(2x − 1)
}

Tensor one_shot_estimate(const OneShotStep& s, const Tensor& xt, const Tensor& eps) {
  // x̂ = clip(√(1/ᾱ)·x_t − √(1/ᾱ − 1)·ε, −1, 1), then (x̂ + 1)/2 in [0, 1].
  const Tensor x0 = ops::combine(static_cast<float>(std::sqrt(1.0 / s.abar)), xt,
                                 static_cast<float>(-std::sqrt(1.0 / s.abar - 1.0)), eps, -1.0f, 1.0f);
  return ops::affine(x0, 0.5f, 0.5f);
}

Tensor denoise_one_shot(DiffusionModel& m, const Tensor& x, double sigma) {
  const OneShotStep step = one_shot_step(m, sigma);
  const Tensor xt = one_shot_input(step, x);
  const Tensor ts = Tensor::full({x.size(0)}, step.t_input, x.device());
  const Tensor out = m.unet->forward(xt, ts);
  return one_shot_estimate(step, xt, out.slice(1, 0, x.size(1)).contiguous());
}

}  // namespace sc
