// smoothcuda sample UNET --n 64 --steps 100 --out grid.png: DDPM samples from a diffusion model as a PNG grid,
// the quickest visual check that a converted model is right.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "apps/args.h"
#include "apps/commands.h"
#include "diffusion/sampler.h"
#include "io/image.h"
#include "kernels/gaussian_noise.h"
#include "smoothing/noise.h"

namespace sc::app {

int sample_command(int argc, char** argv) {
  Args args("sample", "Draws samples with the ancestral DDPM sampler over respaced steps and writes them as a PNG grid.");
  args.positional("UNET", "diffusion model file")
      .option("n", "64", "number of samples")
      .option("steps", "100", "sampling steps (respaced from the model's schedule)")
      .option("seed", "0", "noise seed")
      .option("batch", "64", "samples per forward pass")
      .option("device", "cpu", "cpu, cuda or cuda:K")
      .option("out", "", "PNG grid to write (required)");
  if (!args.parse(argc, argv, 2)) return 0;
  SC_CHECK(!args.get("out").empty(), "sample: --out FILE.png is required");
  const Device device = Device::parse(args.get("device"));
  DiffusionModel m = load_diffusion_model(args.get("UNET"), device);
  const int64_t n = args.get_int("n", 1, 4096), batch = args.get_int("batch", 1, 4096);
  const auto seed = static_cast<uint64_t>(args.get_int("seed", 0, INT64_MAX));
  const auto kept = respaced_timesteps(m.schedule.steps(), args.get_int("steps", 1, m.schedule.steps()));
  const UNetConfig& c = m.unet->config();
  const int64_t C = c.in_channels, S = c.image_size, per = C * S * S;
  Tensor all = Tensor::empty({n, C, S, S});
  const Tensor zeros = Tensor::zeros({per}, DType::F32, device);
  for (int64_t b = 0; b < n; b += batch) {
    const int64_t e = std::min(n, b + batch);
    // x_T ~ N(0, I): sample index b.. of the last step's noise stream.
    const Tensor xT = ops::add_gaussian_noise(zeros, e - b, 1.0f,
                                              NoiseKey{seed, static_cast<uint32_t>(kept.size()), noise::kDiffusionSampling},
                                              static_cast<uint32_t>(b))
                          .reshape({e - b, C, S, S});
    all.slice(0, b, e).copy_(ddpm_sample_loop(m, xT, kept, seed + static_cast<uint64_t>(b)).cpu());
    std::fprintf(stderr, "sampled %lld/%lld\n", static_cast<long long>(e), static_cast<long long>(n));
  }
  // Grid: ⌈√n⌉ columns, 2-pixel white gutters, values mapped from [−1, 1] to 8 bits.
  const int64_t cols = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(n)))), rows = (n + cols - 1) / cols;
  io::Image img;
  img.channels = C == 1 ? 1 : 3;
  img.width = static_cast<int>(cols * (S + 2) + 2);
  img.height = static_cast<int>(rows * (S + 2) + 2);
  img.pixels.assign(static_cast<size_t>(img.width) * img.height * img.channels, 255);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t y = 0; y < S; ++y)
      for (int64_t x = 0; x < S; ++x)
        for (int64_t ch = 0; ch < img.channels; ++ch) {
          const float v = all.data<float>()[((i * C + std::min(ch, C - 1)) * S + y) * S + x];
          const int64_t py = (i / cols) * (S + 2) + 2 + y, px = (i % cols) * (S + 2) + 2 + x;
          img.pixels[(static_cast<size_t>(py) * img.width + px) * img.channels + ch] =
              static_cast<uint8_t>(std::lround(std::clamp((v + 1.0f) * 127.5f, 0.0f, 255.0f)));
        }
  io::write_png(args.get("out"), img);
  std::printf("wrote %lld samples (%zu steps) to %s\n", static_cast<long long>(n), kept.size(), args.get("out").c_str());
  return 0;
}

}  // namespace sc::app
