// Small classifiers: lenet (LeNet-5 as in the PyTorch tutorials), mlp and linear (one affine map of the
// flattened input, whose smoothed version has a closed-form certified radius).
#include "nn/models/small_nets.h"

namespace sc {

// LeNet-5: conv 5×5 (6) → ReLU → max 2 → conv 5×5 (16) → ReLU → max 2 → fc 120 → fc 84 → fc classes.
// Keys: conv1, conv2, fc1, fc2, fc3 (.weight/.bias). Works for 28×28 (fc1 in = 16·4·4) and 32×32 (16·5·5).
std::unique_ptr<Module> build_lenet(const ModelSpec& s) {
  const int64_t h = ((s.height - 4) / 2 - 4) / 2, w = ((s.width - 4) / 2 - 4) / 2;
  SC_CHECK(h > 0 && w > 0, "lenet needs inputs of at least 16x16, got ", s.height, "x", s.width);
  auto net = std::make_unique<Sequential>();
  net->emplace<Conv2d>("conv1", s.channels, 6, 5);
  net->emplace<ReLU>("relu1");
  net->emplace<MaxPool2d>("pool1", Pool2dParams::square(2, 2));
  net->emplace<Conv2d>("conv2", 6, 16, 5);
  net->emplace<ReLU>("relu2");
  net->emplace<MaxPool2d>("pool2", Pool2dParams::square(2, 2));
  net->emplace<Flatten>("flatten");
  net->emplace<Linear>("fc1", 16 * h * w, 120);
  net->emplace<ReLU>("relu3");
  net->emplace<Linear>("fc2", 120, 84);
  net->emplace<ReLU>("relu4");
  net->emplace<Linear>("fc3", 84, s.num_classes);
  return net;
}

// mlp: flatten → fc1 (hidden) → ReLU → fc2 (hidden) → ReLU → fc3 (classes). Flag: hidden (default 256).
std::unique_ptr<Module> build_mlp(const ModelSpec& s) {
  const int64_t hidden = s.flag_int("hidden", 256);
  auto net = std::make_unique<Sequential>();
  net->emplace<Flatten>("flatten");
  net->emplace<Linear>("fc1", s.channels * s.height * s.width, hidden);
  net->emplace<ReLU>("relu1");
  net->emplace<Linear>("fc2", hidden, hidden);
  net->emplace<ReLU>("relu2");
  net->emplace<Linear>("fc3", hidden, s.num_classes);
  return net;
}

// ProoD's CNN_IBP detectors (Meinke et al. 2022), sizes XS and S: conv 3×3 (w) → ReLU → conv 3×3 stride 2
// (2w) → ReLU → conv 3×3 (2w) → ReLU → average 2×2 → flatten → L4 (128) → ReLU → L5 (classes), all
// convolutions padded by 1, w = 64 (XS) or 128 (S). L5 is NegExpLinear (LinearI_Neg) unless the flag
// last_layer_neg is 0. Keys: C1, C2, C3, L4, L5 (.weight/.bias), ProoD's own. No input normalization.
std::unique_ptr<Module> build_prood_cnn(const ModelSpec& s, int64_t width) {
  const int64_t h = ((s.height - 1) / 2 + 1) / 2, w = ((s.width - 1) / 2 + 1) / 2;
  SC_CHECK(h > 0 && w > 0, "prood CNNs need inputs of at least 3x3, got ", s.height, "x", s.width);
  const int64_t last_neg = s.flag_int("last_layer_neg", 1);
  SC_CHECK(last_neg == 0 || last_neg == 1, "model flag last_layer_neg must be 0 or 1, got ", last_neg);
  auto net = std::make_unique<Sequential>();
  net->emplace<Conv2d>("C1", s.channels, width, 3, Conv2dParams::square(1, 1));
  net->emplace<ReLU>("A1");
  net->emplace<Conv2d>("C2", width, 2 * width, 3, Conv2dParams::square(2, 1));
  net->emplace<ReLU>("A2");
  net->emplace<Conv2d>("C3", 2 * width, 2 * width, 3, Conv2dParams::square(1, 1));
  net->emplace<ReLU>("A3");
  net->emplace<AvgPool2d>("pool", Pool2dParams::square(2, 2));
  net->emplace<Flatten>("F");
  net->emplace<Linear>("L4", 2 * width * h * w, 128);
  net->emplace<ReLU>("A4");
  if (last_neg == 1)
    net->emplace<NegExpLinear>("L5", 128, s.num_classes);
  else
    net->emplace<Linear>("L5", 128, s.num_classes);
  return net;
}

// linear: flatten → fc (classes).
std::unique_ptr<Module> build_linear(const ModelSpec& s) {
  auto net = std::make_unique<Sequential>();
  net->emplace<Flatten>("flatten");
  net->emplace<Linear>("fc", s.channels * s.height * s.width, s.num_classes);
  return net;
}


}  // namespace sc
