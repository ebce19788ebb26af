// The geometric data augmentation of the reference CIFAR training scripts: a random crop of the image padded
// with `pad` zero pixels on every side (torchvision's RandomCrop(size, padding)) and a horizontal flip with
// probability 1/2 (RandomHorizontalFlip). Each image's draws come from Philox under (seed, image id, epoch,
// phase kAugmentation), so an epoch's augmentation is reproducible and does not depend on the batch size.
#pragma once
#include <cstdint>
#include <vector>

#include "nn/tensor.h"

namespace sc::training {

struct CropFlip {
  int64_t top = 0, left = 0;  // the crop's corner in the padded image, each in [0, 2·pad]
  bool flip = false;
};

CropFlip draw_crop_flip(uint64_t seed, int64_t image_id, int64_t epoch, int64_t pad, bool flip);

// images: [N, C, H, W] float32 on the CPU; ids[n]: image n's dataset index. Returns the augmented copy.
Tensor crop_and_flip(const Tensor& images, const std::vector<int64_t>& ids, int64_t pad, bool flip,
                     uint64_t seed, int64_t epoch);

}  // namespace sc::training
