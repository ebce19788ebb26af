// smoothcuda denoise UNET SIGMA IN.npy OUT.npy: one-shot diffusion denoising of noisy images in [0,1].
#include <cstdio>

#include "apps/args.h"
#include "apps/commands.h"
#include "diffusion/denoiser.h"
#include "diffusion/sampler.h"
#include "io/npy.h"

namespace sc::app {

int denoise_command(int argc, char** argv) {
  Args args("denoise",
            "Denoises IN.npy (float32 [N, C, H, W] in [0,1], noisy at level SIGMA) in one shot: x_t = sqrt(abar)(2x - 1) "
            "at t*(SIGMA), x0 = clip(x_t/sqrt(abar) - sqrt(1/abar - 1) eps, -1, 1), written to OUT.npy as (x0 + 1)/2.");
  args.positional("UNET", "diffusion model file (smoothcuda convert --arch iddpm_unet|adm_unet ...)")
      .positional("SIGMA", "noise level of the inputs, in [0,1] pixel units")
      .positional("IN", "input .npy")
      .positional("OUT", "output .npy")
      .option("batch", "32", "images per forward pass")
      .option("device", "cpu", "cpu, cuda or cuda:K")
      .flag("multistep", "run the ancestral sampler from t* down to 0 instead of one step")
      .option("seed", "0", "noise seed of the multistep sampler");
  if (!args.parse(argc, argv, 2)) return 0;
  const Device device = Device::parse(args.get("device"));
  DiffusionModel m = load_diffusion_model(args.get("UNET"), device);
  const double sigma = args.get_double("SIGMA", 1e-6, 100);
  const Tensor x = io::read_npy(args.get("IN"));
  SC_CHECK(x.dim() == 4 && x.dtype() == DType::F32, "denoise: IN must be float32 [N, C, H, W], got ", x.describe());
  const int64_t batch = args.get_int("batch", 1, 1 << 20);
  Tensor out = Tensor::empty(x.shape());
  for (int64_t b = 0; b < x.size(0); b += batch) {
    const int64_t e = std::min(x.size(0), b + batch);
    const Tensor xb = x.slice(0, b, e).contiguous().to(device);
    const Tensor clean = args.has_flag("multistep")
                             ? denoise_multistep(m, xb, sigma, static_cast<uint64_t>(args.get_int("seed", 0, INT64_MAX)) + b)
                             : denoise_one_shot(m, xb, sigma);
    out.slice(0, b, e).copy_(clean.cpu());
  }
  io::write_npy(args.get("OUT"), out);
  std::printf("denoised %lld images at sigma %g (t* = %lld of %lld) -> %s\n", static_cast<long long>(x.size(0)), sigma,
              static_cast<long long>(diffusion::timestep_for_sigma(m.schedule, sigma)),
              static_cast<long long>(m.schedule.steps()), args.get("OUT").c_str());
  return 0;
}

}  // namespace sc::app
