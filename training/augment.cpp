#include "training/augment.h"

#include "smoothing/noise.h"

namespace sc::training {

CropFlip draw_crop_flip(uint64_t seed, int64_t image_id, int64_t epoch, int64_t pad, bool flip) {
  SC_CHECK(pad >= 0 && image_id >= 0 && epoch >= 0, "crop_and_flip: padding, image id and epoch must be ≥ 0");
  const uint32_t counter[4] = {static_cast<uint32_t>(image_id), static_cast<uint32_t>(image_id >> 32),
                               static_cast<uint32_t>(epoch), noise::kAugmentation};
  const uint32_t key[2] = {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
  uint32_t r[4];
  noise::philox4x32_10(counter, key, r);
  const uint64_t positions = static_cast<uint64_t>(2 * pad + 1);
  return {static_cast<int64_t>(r[0] % positions), static_cast<int64_t>(r[1] % positions),
          flip && (r[2] & 1u)};
}

Tensor crop_and_flip(const Tensor& images, const std::vector<int64_t>& ids, int64_t pad, bool flip,
                     uint64_t seed, int64_t epoch) {
  SC_CHECK(
      images.device().is_cpu() && images.dtype() == DType::F32 && images.dim() == 4 && images.is_contiguous(),
      "crop_and_flip: images must be a contiguous float32 [N, C, H, W] CPU tensor, got ", images.describe());
  SC_CHECK(static_cast<int64_t>(ids.size()) == images.size(0), "crop_and_flip: ", ids.size(), " ids for ",
           images.size(0), " images");
  const int64_t N = images.size(0), C = images.size(1), H = images.size(2), W = images.size(3);
  Tensor out = Tensor::empty(images.shape());
  const float* src = images.data<float>();
  float* dst = out.data<float>();
  for (int64_t n = 0; n < N; ++n) {
    const CropFlip d = draw_crop_flip(seed, ids[static_cast<size_t>(n)], epoch, pad, flip);
    for (int64_t c = 0; c < C; ++c) {
      const float* plane = src + (n * C + c) * H * W;
      float* o = dst + (n * C + c) * H * W;
      for (int64_t y = 0; y < H; ++y) {
        const int64_t sy = y + d.top - pad;  // the padded image's row y + top
        for (int64_t x = 0; x < W; ++x) {
          const int64_t sx = (d.flip ? W - 1 - x : x) + d.left - pad;
          o[y * W + x] = (sy >= 0 && sy < H && sx >= 0 && sx < W) ? plane[sy * W + sx] : 0.0f;
        }
      }
    }
  }
  return out;
}

}  // namespace sc::training
