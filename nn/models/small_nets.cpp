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

// linear: flatten → fc (classes).
std::unique_ptr<Module> build_linear(const ModelSpec& s) {
  auto net = std::make_unique<Sequential>();
  net->emplace<Flatten>("flatten");
  net->emplace<Linear>("fc", s.channels * s.height * s.width, s.num_classes);
  return net;
}


}  // namespace sc
