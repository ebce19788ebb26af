#include "nn/models/resnets.h"

#include "engine/plan.h"

#include "kernels/elementwise.h"
#include "kernels/pad_channels.h"
#include "kernels/relu.h"
#include "kernels/subsample2d.h"

namespace sc {

namespace {

std::unique_ptr<Conv2d> conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad) {
  return std::make_unique<Conv2d>(in, out, k, Conv2dParams::square(stride, pad), false);
}

// Post-activation residual block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).
// Shortcut: identity, `downsample` (1×1 conv + BN, keys downsample.0/1), or option A (x[:, :, ::2, ::2] with
// zero channels on both sides, no keys).
class BasicBlock : public Module {
 public:
  enum class Shortcut { Identity, Projection, OptionA };
  BasicBlock(int64_t in, int64_t out, int64_t stride, Shortcut kind) : kind_(kind), stride_(stride) {
    conv1_ = conv(in, out, 3, stride, 1);
    bn1_ = std::make_unique<BatchNorm2d>(out);
    conv2_ = conv(out, out, 3, 1, 1);
    bn2_ = std::make_unique<BatchNorm2d>(out);
    if (kind == Shortcut::Projection) {
      downsample_ = std::make_unique<Sequential>();
      downsample_->add("0", conv(in, out, 1, stride, 0)).emplace<BatchNorm2d>("1", out);
    }
    pad_ = (out - in) / 2;
  }
  Tensor forward(const Tensor& x) override {
    Tensor h = relu1_.forward(bn1_->forward(conv1_->forward(x)));
    h = bn2_->forward(conv2_->forward(h));
    Tensor s = x;
    if (kind_ == Shortcut::Projection) s = downsample_->forward(x);
    if (kind_ == Shortcut::OptionA) s = ops::pad_channels(ops::subsample2d(x, stride_), pad_, pad_);
    input_shape_.keep(x.shape());
    return relu2_.forward(ops::add(h, s));
  }
  Interval bounds(const Interval& x) override {
    Interval h = bn2_->bounds(conv2_->bounds(relu1_.bounds(bn1_->bounds(conv1_->bounds(x)))));
    Interval s = x;
    if (kind_ == Shortcut::Projection) s = downsample_->bounds(x);
    if (kind_ == Shortcut::OptionA) {
      bounds_shape_.keep(x.lower.shape());
      s = monotone_bounds(
          x, [&](const Tensor& t) { return ops::pad_channels(ops::subsample2d(t, stride_), pad_, pad_); });
    }
    return relu2_.bounds(add_bounds(h, s));
  }
  // The sum's gradient flows into both branches; the shortcut's adds to the residual branch's.
  Tensor backward(const Tensor& dy) override {
    const Tensor g = relu2_.backward(dy);
    Tensor dx = conv1_->backward(bn1_->backward(relu1_.backward(conv2_->backward(bn2_->backward(g)))));
    if (kind_ == Shortcut::Identity) return ops::add(dx, g);
    if (kind_ == Shortcut::Projection) return ops::add(dx, downsample_->backward(g));
    return ops::add(dx, option_a_backward(g, input_shape_.get(*this)));
  }
  // The same paths for each bound's gradient (option A's map is a selection: each bound through its
  // transpose).
  Interval bounds_backward(const Interval& dy) override {
    const Interval g = relu2_.bounds_backward(dy);
    const Interval dx = conv1_->bounds_backward(
        bn1_->bounds_backward(relu1_.bounds_backward(conv2_->bounds_backward(bn2_->bounds_backward(g)))));
    if (kind_ == Shortcut::Identity) return add_bounds(dx, g);
    if (kind_ == Shortcut::Projection) return add_bounds(dx, downsample_->bounds_backward(g));
    const Shape& s = bounds_shape_.get(*this);
    return add_bounds(dx, {option_a_backward(g.lower, s), option_a_backward(g.upper, s)});
  }
  int lower(PlanBuilder& b, int x) const override {
    int h = b.relu(bn1_->lower(b, conv1_->lower(b, x)));
    h = bn2_->lower(b, conv2_->lower(b, h));
    int s = x;
    if (kind_ == Shortcut::Projection) s = downsample_->lower(b, x);
    if (kind_ == Shortcut::OptionA) s = b.subsample_pad(x, stride_, pad_);
    return b.relu(b.add(h, s));
  }
  void collect(const std::string& p, NamedTensors& out) override {
    conv1_->collect(join_key(p, "conv1"), out);
    bn1_->collect(join_key(p, "bn1"), out);
    conv2_->collect(join_key(p, "conv2"), out);
    bn2_->collect(join_key(p, "bn2"), out);
    if (downsample_) downsample_->collect(join_key(p, "downsample"), out);
  }
  std::string name() const override { return "BasicBlock"; }

 private:
  // The transpose of option A's shortcut for an input of shape s: the channels the padding did not add,
  // spread back onto the subsampled pixels.
  Tensor option_a_backward(const Tensor& g, const Shape& s) const {
    const Tensor kept = g.slice(1, pad_, g.size(1) - pad_).contiguous();
    return ops::subsample2d_backward(kept, s[2], s[3], stride_);
  }

  Shortcut kind_;
  int64_t stride_, pad_;
  ReLU relu1_, relu2_;
  Saved<Shape> input_shape_, bounds_shape_;  // of the last recorded forward() and bounds() inputs
  std::unique_ptr<Conv2d> conv1_, conv2_;
  std::unique_ptr<BatchNorm2d> bn1_, bn2_;
  std::unique_ptr<Sequential> downsample_;
};

// torchvision Bottleneck: 1×1 → 3×3 (stride) → 1×1 (×4 channels), projection shortcut where shapes change.
class Bottleneck : public Module {
 public:
  Bottleneck(int64_t in, int64_t planes, int64_t stride) {
    const int64_t out = planes * 4;
    conv1_ = conv(in, planes, 1, 1, 0);
    bn1_ = std::make_unique<BatchNorm2d>(planes);
    conv2_ = conv(planes, planes, 3, stride, 1);
    bn2_ = std::make_unique<BatchNorm2d>(planes);
    conv3_ = conv(planes, out, 1, 1, 0);
    bn3_ = std::make_unique<BatchNorm2d>(out);
    if (stride != 1 || in != out) {
      downsample_ = std::make_unique<Sequential>();
      downsample_->add("0", conv(in, out, 1, stride, 0)).emplace<BatchNorm2d>("1", out);
    }
  }
  Tensor forward(const Tensor& x) override {
    Tensor h = relu1_.forward(bn1_->forward(conv1_->forward(x)));
    h = relu2_.forward(bn2_->forward(conv2_->forward(h)));
    h = bn3_->forward(conv3_->forward(h));
    return relu3_.forward(ops::add(h, downsample_ ? downsample_->forward(x) : x));
  }
  Interval bounds(const Interval& x) override {
    Interval h = relu2_.bounds(bn2_->bounds(conv2_->bounds(relu1_.bounds(bn1_->bounds(conv1_->bounds(x))))));
    h = bn3_->bounds(conv3_->bounds(h));
    return relu3_.bounds(add_bounds(h, downsample_ ? downsample_->bounds(x) : x));
  }
  Tensor backward(const Tensor& dy) override {
    const Tensor g = relu3_.backward(dy);
    Tensor h = relu2_.backward(conv3_->backward(bn3_->backward(g)));
    const Tensor dx = conv1_->backward(bn1_->backward(relu1_.backward(conv2_->backward(bn2_->backward(h)))));
    return ops::add(dx, downsample_ ? downsample_->backward(g) : g);
  }
  Interval bounds_backward(const Interval& dy) override {
    const Interval g = relu3_.bounds_backward(dy);
    const Interval h = relu2_.bounds_backward(conv3_->bounds_backward(bn3_->bounds_backward(g)));
    const Interval dx = conv1_->bounds_backward(
        bn1_->bounds_backward(relu1_.bounds_backward(conv2_->bounds_backward(bn2_->bounds_backward(h)))));
    return add_bounds(dx, downsample_ ? downsample_->bounds_backward(g) : g);
  }
  int lower(PlanBuilder& b, int x) const override {
    int h = b.relu(bn1_->lower(b, conv1_->lower(b, x)));
    h = b.relu(bn2_->lower(b, conv2_->lower(b, h)));
    h = bn3_->lower(b, conv3_->lower(b, h));
    return b.relu(b.add(h, downsample_ ? downsample_->lower(b, x) : x));
  }
  void collect(const std::string& p, NamedTensors& out) override {
    conv1_->collect(join_key(p, "conv1"), out);
    bn1_->collect(join_key(p, "bn1"), out);
    conv2_->collect(join_key(p, "conv2"), out);
    bn2_->collect(join_key(p, "bn2"), out);
    conv3_->collect(join_key(p, "conv3"), out);
    bn3_->collect(join_key(p, "bn3"), out);
    if (downsample_) downsample_->collect(join_key(p, "downsample"), out);
  }
  std::string name() const override { return "Bottleneck"; }

 private:
  ReLU relu1_, relu2_, relu3_;
  std::unique_ptr<Conv2d> conv1_, conv2_, conv3_;
  std::unique_ptr<BatchNorm2d> bn1_, bn2_, bn3_;
  std::unique_ptr<Sequential> downsample_;
};

// WideResNet pre-activation block: with equal channels x + conv2(relu(bn2(conv1(relu(bn1(x)))))); otherwise the
// pre-activation a = relu(bn1(x)) feeds both conv1 and the 1×1 convShortcut.
class PreActBlock : public Module {
 public:
  PreActBlock(int64_t in, int64_t out, int64_t stride) : equal_(in == out) {
    bn1_ = std::make_unique<BatchNorm2d>(in);
    conv1_ = conv(in, out, 3, stride, 1);
    bn2_ = std::make_unique<BatchNorm2d>(out);
    conv2_ = conv(out, out, 3, 1, 1);
    if (!equal_) shortcut_ = conv(in, out, 1, stride, 0);
  }
  Tensor forward(const Tensor& x) override {
    const Tensor a = relu1_.forward(bn1_->forward(x));
    Tensor h = relu2_.forward(bn2_->forward(conv1_->forward(a)));
    h = conv2_->forward(h);
    return ops::add(equal_ ? x : shortcut_->forward(a), h);
  }
  Interval bounds(const Interval& x) override {
    const Interval a = relu1_.bounds(bn1_->bounds(x));
    const Interval h = conv2_->bounds(relu2_.bounds(bn2_->bounds(conv1_->bounds(a))));
    return add_bounds(equal_ ? x : shortcut_->bounds(a), h);
  }
  // With equal channels the shortcut reads x itself; otherwise it reads a, whose gradient both branches add
  // to.
  Tensor backward(const Tensor& dy) override {
    Tensor da = conv1_->backward(bn2_->backward(relu2_.backward(conv2_->backward(dy))));
    if (equal_) return ops::add(bn1_->backward(relu1_.backward(da)), dy);
    da = ops::add(da, shortcut_->backward(dy));
    return bn1_->backward(relu1_.backward(da));
  }
  Interval bounds_backward(const Interval& dy) override {
    Interval da =
        conv1_->bounds_backward(bn2_->bounds_backward(relu2_.bounds_backward(conv2_->bounds_backward(dy))));
    if (equal_) return add_bounds(bn1_->bounds_backward(relu1_.bounds_backward(da)), dy);
    da = add_bounds(da, shortcut_->bounds_backward(dy));
    return bn1_->bounds_backward(relu1_.bounds_backward(da));
  }
  int lower(PlanBuilder& b, int x) const override {
    const int a = b.relu(bn1_->lower(b, x));
    int h = b.relu(bn2_->lower(b, conv1_->lower(b, a)));
    h = conv2_->lower(b, h);
    return b.add(equal_ ? x : shortcut_->lower(b, a), h);
  }
  void collect(const std::string& p, NamedTensors& out) override {
    bn1_->collect(join_key(p, "bn1"), out);
    conv1_->collect(join_key(p, "conv1"), out);
    bn2_->collect(join_key(p, "bn2"), out);
    conv2_->collect(join_key(p, "conv2"), out);
    if (shortcut_) shortcut_->collect(join_key(p, "convShortcut"), out);
  }
  std::string name() const override { return "PreActBlock"; }

 private:
  bool equal_;
  ReLU relu1_, relu2_;
  std::unique_ptr<BatchNorm2d> bn1_, bn2_;
  std::unique_ptr<Conv2d> conv1_, conv2_, shortcut_;
};

// Average pooling over the whole (8×8 for CIFAR) feature map, then flatten.
class PoolFlatten : public Module {
 public:
  Tensor forward(const Tensor& x) override { return pool_.forward(x); }
  Tensor backward(const Tensor& dy) override { return pool_.backward(dy); }
  Interval bounds(const Interval& x) override { return pool_.bounds(x); }
  Interval bounds_backward(const Interval& dy) override { return pool_.bounds_backward(dy); }
  int lower(PlanBuilder& b, int x) const override { return b.global_avg_pool(x); }
  std::string name() const override { return "PoolFlatten"; }

 private:
  GlobalAvgPool pool_;
};

void check_input(const ModelSpec& s, int64_t channels, int64_t min_side) {
  SC_CHECK(s.channels == channels, s.arch, " takes ", channels, "-channel inputs, the spec says ", s.channels);
  SC_CHECK(s.height >= min_side && s.width >= min_side, s.arch, " needs inputs of at least ", min_side, "x",
           min_side, ", the spec says ", s.height, "x", s.width);
}

// The CIFAR ResNet skeleton shared by Cohen's and akamaster's variants: conv 3×3 (16) → BN → ReLU → three stages
// of n BasicBlocks (16, 32, 64 channels; stride 2 entering stages 2 and 3) → global average pool → linear head.
// They differ only in the shortcut where shapes change and in the head's key.
std::unique_ptr<Module> build_cifar_resnet_family(const ModelSpec& s, int depth, BasicBlock::Shortcut change,
                                                  const char* head) {
  SC_CHECK((depth - 2) % 6 == 0, s.arch, ": depth must be 6n+2, got ", depth);
  check_input(s, 3, 8);
  const int n = (depth - 2) / 6;
  auto net = std::make_unique<Sequential>();
  net->add("conv1", conv(3, 16, 3, 1, 1)).emplace<BatchNorm2d>("bn1", 16).emplace<ReLU>("relu");
  int64_t in = 16;
  const int64_t widths[3] = {16, 32, 64};
  for (int stage = 0; stage < 3; ++stage) {
    auto layer = std::make_unique<Sequential>();
    for (int b = 0; b < n; ++b) {
      const int64_t stride = (stage > 0 && b == 0) ? 2 : 1, out = widths[stage];
      const auto kind = (stride != 1 || in != out) ? change : BasicBlock::Shortcut::Identity;
      layer->emplace<BasicBlock>(std::to_string(b), in, out, stride, kind);
      in = out;
    }
    net->add("layer" + std::to_string(stage + 1), std::move(layer));
  }
  // Cohen's reference pools with AvgPool2d(8) on the 8×8 map: global pooling at 32×32 inputs.
  net->emplace<PoolFlatten>("avgpool").emplace<Linear>(head, 64, s.num_classes);
  return net;
}

}  // namespace

std::unique_ptr<Module> build_cifar_resnet(const ModelSpec& s, int depth) {
  return build_cifar_resnet_family(s, depth, BasicBlock::Shortcut::Projection, "fc");
}

std::unique_ptr<Module> build_aka_resnet(const ModelSpec& s, int depth) {
  return build_cifar_resnet_family(s, depth, BasicBlock::Shortcut::OptionA, "linear");
}

std::unique_ptr<Module> build_torchvision_resnet(const ModelSpec& s, int depth) {
  SC_CHECK(depth == 18 || depth == 50, "torchvision resnet depth must be 18 or 50, got ", depth);
  check_input(s, 3, 32);
  const bool bottleneck = depth == 50;
  const int blocks[4] = {bottleneck ? 3 : 2, bottleneck ? 4 : 2, bottleneck ? 6 : 2, bottleneck ? 3 : 2};
  auto net = std::make_unique<Sequential>();
  net->add("conv1", conv(3, 64, 7, 2, 3)).emplace<BatchNorm2d>("bn1", 64).emplace<ReLU>("relu");
  net->emplace<MaxPool2d>("maxpool", Pool2dParams::square(3, 2, 1));
  int64_t in = 64;
  for (int stage = 0; stage < 4; ++stage) {
    const int64_t planes = 64LL << stage;
    auto layer = std::make_unique<Sequential>();
    for (int b = 0; b < blocks[stage]; ++b) {
      const int64_t stride = (stage > 0 && b == 0) ? 2 : 1;
      if (bottleneck) {
        layer->emplace<Bottleneck>(std::to_string(b), in, planes, stride);
        in = planes * 4;
      } else {
        const auto kind = (stride != 1 || in != planes) ? BasicBlock::Shortcut::Projection
                                                        : BasicBlock::Shortcut::Identity;
        layer->emplace<BasicBlock>(std::to_string(b), in, planes, stride, kind);
        in = planes;
      }
    }
    net->add("layer" + std::to_string(stage + 1), std::move(layer));
  }
  net->emplace<PoolFlatten>("avgpool").emplace<Linear>("fc", in, s.num_classes);
  return net;
}

std::unique_ptr<Module> build_wide_resnet(const ModelSpec& s, int depth, int widen) {
  SC_CHECK((depth - 4) % 6 == 0, "wide resnet depth must be 6n+4, got ", depth);
  check_input(s, 3, 8);
  const int n = (depth - 4) / 6;
  const int64_t ch[4] = {16, 16LL * widen, 32LL * widen, 64LL * widen};
  auto net = std::make_unique<Sequential>();
  net->add("conv1", conv(3, ch[0], 3, 1, 1));
  for (int stage = 0; stage < 3; ++stage) {
    auto layer = std::make_unique<Sequential>();
    for (int b = 0; b < n; ++b)
      layer->emplace<PreActBlock>(std::to_string(b), b == 0 ? ch[stage] : ch[stage + 1], ch[stage + 1],
                                  (stage > 0 && b == 0) ? 2 : 1);
    auto block = std::make_unique<Sequential>();
    block->add("layer", std::move(layer));
    net->add("block" + std::to_string(stage + 1), std::move(block));
  }
  net->emplace<BatchNorm2d>("bn1", ch[3]).emplace<ReLU>("relu");
  net->emplace<PoolFlatten>("avgpool").emplace<Linear>("fc", ch[3], s.num_classes);
  return net;
}

}  // namespace sc
