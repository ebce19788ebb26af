// smoothcuda visualize DATASET IDX SIGMA...: the image and its noisy versions as PNGs (values clipped to [0,1]).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "apps/args.h"
#include "apps/commands.h"
#include "io/dataset.h"
#include "io/image.h"
#include "kernels/gaussian_noise.h"
#include "nn/parse_number.h"
#include "smoothing/noise.h"

namespace sc::app {

namespace {
io::Image to_image(const Tensor& x, int scale) {  // [C, H, W] floats → clipped 8-bit, nearest-upscaled
  const int C = static_cast<int>(x.size(0)), H = static_cast<int>(x.size(1)), W = static_cast<int>(x.size(2));
  io::Image img;
  img.channels = C == 1 ? 1 : 3;
  img.height = H * scale, img.width = W * scale;
  img.pixels.resize(static_cast<size_t>(img.height) * img.width * img.channels);
  const float* p = x.data<float>();
  for (int y = 0; y < img.height; ++y)
    for (int xx = 0; xx < img.width; ++xx)
      for (int c = 0; c < img.channels; ++c) {
        const float v = p[(static_cast<int64_t>(c) * H + y / scale) * W + xx / scale];
        img.pixels[(static_cast<size_t>(y) * img.width + xx) * img.channels + c] =
            static_cast<uint8_t>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f));
      }
  return img;
}
}  // namespace

int visualize_command(int argc, char** argv) {
  Args args("visualize", "Writes IDX of DATASET and its noisy copies x + N(0, σ²I) as PNGs: OUT/IDX_clean.png and "
                         "OUT/IDX_SIGMA.png for each σ (σ values separated by commas).");
  args.positional("DATASET", "a dataset name")
      .positional("IDX", "image index")
      .positional("SIGMAS", "noise levels, e.g. 0.12,0.25,0.5,1.0")
      .option("out", "", "output folder (required)")
      .option("split", "test", "train or test")
      .option("data-dir", "", "dataset root")
      .option("seed", "0", "noise seed")
      .option("scale", "1", "nearest-neighbour upscaling factor for small images");
  if (!args.parse(argc, argv, 2)) return 0;
  SC_CHECK(!args.get("out").empty(), "visualize: --out DIR is required");
  auto data = io::open_dataset(args.get("DATASET"), {args.get("split"), args.get("data-dir")});
  const int64_t idx = args.get_int("IDX", 0, data->size() - 1);
  const int scale = static_cast<int>(args.get_int("scale", 1, 64));
  const Tensor x = data->images(idx, idx + 1).reshape(data->image_shape());
  const std::string dir = args.get("out");
  std::filesystem::create_directories(dir);
  io::write_png(dir + "/" + std::to_string(idx) + "_clean.png", to_image(x, scale));
  std::string list = args.get("SIGMAS");
  for (size_t p = 0; p <= list.size();) {
    const size_t e = std::min(list.find(',', p), list.size());
    const std::string s = list.substr(p, e - p);
    p = e + 1;
    const auto sigma = parse_double(s);
    SC_CHECK(sigma, "visualize: '", s, "' is not a noise level");
    SC_CHECK(*sigma >= 0 && std::isfinite(*sigma), "visualize: noise level must be >= 0, got ", s);
    const NoiseKey key{static_cast<uint64_t>(args.get_int("seed", 0, INT64_MAX)), static_cast<uint32_t>(idx),
                       noise::kSelection};
    const Tensor noisy = ops::add_gaussian_noise(x, 1, static_cast<float>(*sigma), key, 0).reshape(x.shape());
    const std::string path = dir + "/" + std::to_string(idx) + "_" + s + ".png";
    io::write_png(path, to_image(noisy, scale));
    std::printf("wrote %s\n", path.c_str());
  }
  return 0;
}

}  // namespace sc::app
