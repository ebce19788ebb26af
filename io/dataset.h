// Datasets of labelled images in [0,1], read by name:
//   cifar10, cifar100              official binary or python-pickle batches under --data-dir / $SMOOTHCUDA_DATA
//   imagenet                       $IMAGENET_DIR/{val,train} class folders; Resize(256) + CenterCrop(224)
//   folder:PATH                    torchvision ImageFolder of PNG/JPEG (class folders sorted), images as they are;
//                                  images directly in PATH, without class folders, are unlabeled (label −1)
//   mnist, fashion-mnist           idx files (gzipped or not); --data-dir, $SMOOTHCUDA_DATA; fashion-mnist
//                                  defaults to /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist)
//   npy:IMAGES.npy[:LABELS.npy]    float32 NCHW used as is; uint8 NCHW or NHWC scaled by 1/255
//   fake:N:C:H:W[:gaussian|uniform] random images (a fixed function of the index, the same for both splits)
//                                  and labels in [0, 10)
//   inout:IN+OUT                   a detector's binary set: IN's images (label 1) and OUT's (label 0) in
//                                  one fixed shuffled order; both read with the same split
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "nn/tensor.h"

namespace sc::io {

struct DatasetOptions {
  std::string split = "test";  // train | test
  std::string data_dir;        // empty: $SMOOTHCUDA_DATA, then the dataset's default
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual Shape image_shape() const = 0;  // [C, H, W]
  virtual int64_t num_classes() const = 0;
  virtual int64_t label(int64_t i) const = 0;
  virtual void read_image(int64_t i, float* out) const = 0;  // C·H·W floats in [0,1]
  virtual std::string name() const = 0;

  // Images [end − begin, C, H, W] (float32, CPU) and their labels (int64).
  Tensor images(int64_t begin, int64_t end) const;
  Tensor labels(int64_t begin, int64_t end) const;
};

// The images indices[b0 … b1) as one float32 batch [b1 − b0, C, H, W] on the CPU.
Tensor read_batch(const Dataset& data, const std::vector<int64_t>& indices, int64_t b0, int64_t b1);

std::unique_ptr<Dataset> open_dataset(const std::string& spec, const DatasetOptions& options = {});

}  // namespace sc::io
