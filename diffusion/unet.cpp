#include "diffusion/unet.h"

#include <algorithm>

#include "kernels/channel_modulate.h"
#include "kernels/concat.h"
#include "kernels/elementwise.h"
#include "kernels/group_norm.h"
#include "kernels/pool2d.h"
#include "kernels/qkv_attention.h"
#include "kernels/silu.h"
#include "kernels/timestep_embedding.h"
#include "kernels/upsample_nearest2x.h"
#include "nn/layers.h"
#include "nn/parse_number.h"

namespace sc {

namespace {

// GroupNorm32: 32 groups, eps 1e-5, statistics in float (the reference upcasts to float32).
class GroupNorm32 : public Module {
 public:
  explicit GroupNorm32(int64_t c) : weight(Tensor::full({c}, 1.0f)), bias(Tensor::zeros({c})) {
    SC_CHECK(c % 32 == 0, "GroupNorm32 needs a multiple of 32 channels, got ", c);
  }
  Tensor forward(const Tensor& x) override { return ops::group_norm(x, 32, weight, bias, 1e-5); }
  void collect(const std::string& p, NamedTensors& out) override {
    out.emplace_back(join_key(p, "weight"), &weight);
    out.emplace_back(join_key(p, "bias"), &bias);
  }
  std::string name() const override { return "GroupNorm32"; }
  Tensor weight, bias;
};

// A 1×1 convolution over [B, C, T] (nn.Conv1d with kernel 1): weight [O, C, 1].
class Conv1x1 : public Module {
 public:
  Conv1x1(int64_t in, int64_t out) : weight(Tensor::zeros({out, in, 1})), bias(Tensor::zeros({out})) {}
  Tensor forward(const Tensor& x) override {
    const Tensor y = ops::conv2d(x.reshape({x.size(0), x.size(1), x.size(2), 1}),
                                 weight.reshape({weight.size(0), weight.size(1), 1, 1}), bias, {});
    return y.reshape({x.size(0), weight.size(0), x.size(2)});
  }
  void collect(const std::string& p, NamedTensors& out) override {
    out.emplace_back(join_key(p, "weight"), &weight);
    out.emplace_back(join_key(p, "bias"), &bias);
  }
  std::string name() const override { return "Conv1d"; }
  Tensor weight, bias;
};

std::unique_ptr<Conv2d> conv3x3(int64_t in, int64_t out, int64_t stride = 1) {
  return std::make_unique<Conv2d>(in, out, 3, Conv2dParams::square(stride, 1), true);
}

// A layer of a timestep-conditioned sequence: forward(x, emb).
class EmbLayer : public Module {
 public:
  virtual Tensor forward(const Tensor& x, const Tensor& emb) = 0;
  virtual void visit(UNetVisitor& v, const Tensor& emb) = 0;
  Tensor forward(const Tensor& x) override { return forward(x, Tensor()); }
};

enum class Resample { None, Up, Down };

class ResBlock : public EmbLayer {
 public:
  ResBlock(int64_t ch, int64_t emb_ch, int64_t out_ch, bool scale_shift, Resample resample)
      : scale_shift_(scale_shift), resample_(resample) {
    in_norm_ = std::make_unique<GroupNorm32>(ch);
    in_conv_ = conv3x3(ch, out_ch);
    emb_ = std::make_unique<Linear>(emb_ch, scale_shift ? 2 * out_ch : out_ch);
    out_norm_ = std::make_unique<GroupNorm32>(out_ch);
    out_conv_ = conv3x3(out_ch, out_ch);
    if (out_ch != ch) skip_ = std::make_unique<Conv2d>(ch, out_ch, 1, Conv2dParams{}, true);
  }
  using EmbLayer::forward;
  Tensor forward(const Tensor& x, const Tensor& emb) override {
    Tensor h = ops::silu(in_norm_->forward(x));
    Tensor xs = x;
    if (resample_ != Resample::None) {  // guided-diffusion's up/down ResBlock resamples h and x alike
      h = resample(h);
      xs = resample(x);
    }
    h = in_conv_->forward(h);
    const Tensor e = emb_->forward(ops::silu(emb));  // [B, (2·)out_ch]
    const int64_t oc = h.size(1);
    if (scale_shift_) {
      const Tensor scale = e.slice(1, 0, oc).contiguous(), shift = e.slice(1, oc, 2 * oc).contiguous();
      h = ops::channel_modulate(out_norm_->forward(h), scale, shift);
      h = ops::silu(h);
    } else {
      h = ops::silu(out_norm_->forward(ops::channel_modulate(h, Tensor(), e)));
    }
    h = out_conv_->forward(h);  // dropout is the identity at inference
    return ops::add(skip_ ? skip_->forward(xs) : xs, h);
  }
  void visit(UNetVisitor& v, const Tensor& emb) override {
    const Tensor e = emb_->forward(ops::silu(emb));
    v.res_block({in_norm_->weight, in_norm_->bias, in_conv_->weight, in_conv_->bias, e, out_norm_->weight,
                 out_norm_->bias, out_conv_->weight, out_conv_->bias, skip_ ? &skip_->weight : nullptr,
                 skip_ ? &skip_->bias : nullptr, scale_shift_,
                 resample_ == Resample::Up     ? 1
                 : resample_ == Resample::Down ? -1
                                               : 0});
  }
  void collect(const std::string& p, NamedTensors& out) override {
    in_norm_->collect(join_key(p, "in_layers.0"), out);
    in_conv_->collect(join_key(p, "in_layers.2"), out);
    emb_->collect(join_key(p, "emb_layers.1"), out);
    out_norm_->collect(join_key(p, "out_layers.0"), out);
    out_conv_->collect(join_key(p, "out_layers.3"), out);
    if (skip_) skip_->collect(join_key(p, "skip_connection"), out);
  }
  std::string name() const override { return "ResBlock"; }

 private:
  Tensor resample(const Tensor& x) const {
    return resample_ == Resample::Up ? ops::upsample_nearest2x(x)
                                     : ops::avg_pool2d(x, Pool2dParams::square(2, 2));
  }
  bool scale_shift_;
  Resample resample_;
  std::unique_ptr<GroupNorm32> in_norm_, out_norm_;
  std::unique_ptr<Conv2d> in_conv_, out_conv_, skip_;
  std::unique_ptr<Linear> emb_;
};

class AttentionBlock : public EmbLayer {
 public:
  AttentionBlock(int64_t ch, int64_t heads) : heads_(heads) {
    SC_CHECK(heads > 0 && ch % heads == 0, "attention: ", heads, " heads do not divide ", ch, " channels");
    norm_ = std::make_unique<GroupNorm32>(ch);
    qkv_ = std::make_unique<Conv1x1>(ch, 3 * ch);
    proj_ = std::make_unique<Conv1x1>(ch, ch);
  }
  using EmbLayer::forward;
  Tensor forward(const Tensor& x, const Tensor&) override {
    const Tensor flat = x.reshape({x.size(0), x.size(1), -1});
    const Tensor h = proj_->forward(ops::qkv_attention(qkv_->forward(norm_->forward(flat)), heads_));
    return ops::add(flat, h).reshape(x.shape());
  }
  void visit(UNetVisitor& v, const Tensor&) override {
    v.attention(norm_->weight, norm_->bias, qkv_->weight, qkv_->bias, proj_->weight, proj_->bias, heads_);
  }
  void collect(const std::string& p, NamedTensors& out) override {
    norm_->collect(join_key(p, "norm"), out);
    qkv_->collect(join_key(p, "qkv"), out);
    proj_->collect(join_key(p, "proj_out"), out);
  }
  std::string name() const override { return "AttentionBlock"; }

 private:
  int64_t heads_;
  std::unique_ptr<GroupNorm32> norm_;
  std::unique_ptr<Conv1x1> qkv_, proj_;
};

class Downsample : public EmbLayer {  // conv3x3 stride 2, key "op"
 public:
  explicit Downsample(int64_t ch) : op_(conv3x3(ch, ch, 2)) {}
  using EmbLayer::forward;
  Tensor forward(const Tensor& x, const Tensor&) override { return op_->forward(x); }
  void visit(UNetVisitor& v, const Tensor&) override { v.conv(op_->weight, op_->bias, 2); }
  void collect(const std::string& p, NamedTensors& out) override { op_->collect(join_key(p, "op"), out); }
  std::string name() const override { return "Downsample"; }

 private:
  std::unique_ptr<Conv2d> op_;
};

class Upsample : public EmbLayer {  // nearest ×2 then conv3x3, key "conv"
 public:
  explicit Upsample(int64_t ch) : conv_(conv3x3(ch, ch)) {}
  using EmbLayer::forward;
  Tensor forward(const Tensor& x, const Tensor&) override {
    return conv_->forward(ops::upsample_nearest2x(x));
  }
  void visit(UNetVisitor& v, const Tensor&) override { v.upsample_conv(conv_->weight, conv_->bias); }
  void collect(const std::string& p, NamedTensors& out) override { conv_->collect(join_key(p, "conv"), out); }
  std::string name() const override { return "Upsample"; }

 private:
  std::unique_ptr<Conv2d> conv_;
};

class FirstConv : public EmbLayer {  // input_blocks.0.0
 public:
  FirstConv(int64_t in, int64_t out) : conv_(conv3x3(in, out)) {}
  using EmbLayer::forward;
  Tensor forward(const Tensor& x, const Tensor&) override { return conv_->forward(x); }
  void visit(UNetVisitor& v, const Tensor&) override { v.conv(conv_->weight, conv_->bias, 1); }
  void collect(const std::string& p, NamedTensors& out) override { conv_->collect(p, out); }
  std::string name() const override { return "Conv2d"; }

 private:
  std::unique_ptr<Conv2d> conv_;
};

using EmbBlock = std::vector<std::unique_ptr<EmbLayer>>;  // one TimestepEmbedSequential

Tensor run_block(EmbBlock& block, Tensor h, const Tensor& emb) {
  for (auto& layer : block) h = layer->forward(h, emb);
  return h;
}

void collect_block(EmbBlock& block, const std::string& prefix, NamedTensors& out) {
  for (size_t i = 0; i < block.size(); ++i) block[i]->collect(join_key(prefix, std::to_string(i)), out);
}

std::vector<int64_t> parse_ints(const std::string& s, const std::string& what) {
  const auto v = parse_int64_list(s);
  SC_CHECK(v, what, ": '", s, "' is not a comma-separated list of integers");
  return *v;
}

bool parse_bool(const std::string& s, const std::string& what) {
  if (s == "True" || s == "true" || s == "1") return true;
  if (s == "False" || s == "false" || s == "0") return false;
  SC_FAIL(what, ": '", s, "' is not True or False");
}

// The UNet's layers as the reference scripts build them, without their weights: the constructor makes the
// modules from this, and parameter_count() sums it without allocating (a model file's flags are checked
// against the numbers the file holds before anything is built).
struct LayerSpec {
  enum class Kind { FirstConv, ResBlock, Attention, Downsample, Upsample } kind;
  int64_t in = 0, out = 0, heads = 0;
  Resample resample = Resample::None;  // ResBlocks of guided-diffusion's resblock_updown
};
using BlockSpec = std::vector<LayerSpec>;  // one TimestepEmbedSequential
struct UNetLayout {
  std::vector<BlockSpec> input, output;
  BlockSpec middle;
};

UNetLayout unet_layout(const UNetConfig& c) {
  using K = LayerSpec::Kind;
  const int64_t mc = c.model_channels;
  auto heads_for = [&](int64_t ch, int64_t heads) {
    return c.num_head_channels > 0 ? ch / c.num_head_channels : heads;
  };
  auto has_attention = [&](int64_t ds) {
    return std::find(c.attention_ds.begin(), c.attention_ds.end(), ds) != c.attention_ds.end();
  };
  auto res_block = [](int64_t in, int64_t out, Resample r = Resample::None) {
    return LayerSpec{K::ResBlock, in, out, 0, r};
  };
  UNetLayout u;
  u.input.push_back({LayerSpec{K::FirstConv, c.in_channels, mc}});
  std::vector<int64_t> skip_channels = {mc};
  int64_t ch = mc, ds = 1;
  for (size_t level = 0; level < c.channel_mult.size(); ++level) {
    for (int64_t r = 0; r < c.num_res_blocks; ++r) {
      BlockSpec b = {res_block(ch, c.channel_mult[level] * mc)};
      ch = c.channel_mult[level] * mc;
      if (has_attention(ds)) b.push_back(LayerSpec{K::Attention, ch, ch, heads_for(ch, c.num_heads)});
      u.input.push_back(b);
      skip_channels.push_back(ch);
    }
    if (level + 1 != c.channel_mult.size()) {
      u.input.push_back(
          {c.resblock_updown ? res_block(ch, ch, Resample::Down) : LayerSpec{K::Downsample, ch, ch}});
      skip_channels.push_back(ch);
      ds *= 2;
    }
  }
  u.middle = {res_block(ch, ch), LayerSpec{K::Attention, ch, ch, heads_for(ch, c.num_heads)},
              res_block(ch, ch)};
  for (size_t level = c.channel_mult.size(); level-- > 0;) {
    for (int64_t i = 0; i <= c.num_res_blocks; ++i) {
      const int64_t skip = skip_channels.back();
      skip_channels.pop_back();
      BlockSpec b = {res_block(ch + skip, mc * c.channel_mult[level])};
      ch = mc * c.channel_mult[level];
      if (has_attention(ds))
        b.push_back(LayerSpec{K::Attention, ch, ch, heads_for(ch, c.num_heads_upsample)});
      if (level && i == c.num_res_blocks) {
        b.push_back(c.resblock_updown ? res_block(ch, ch, Resample::Up) : LayerSpec{K::Upsample, ch, ch});
        ds /= 2;
      }
      u.output.push_back(b);
    }
  }
  return u;
}

std::unique_ptr<EmbLayer> build_layer(const LayerSpec& l, int64_t emb, bool scale_shift) {
  switch (l.kind) {
    case LayerSpec::Kind::FirstConv:
      return std::make_unique<FirstConv>(l.in, l.out);
    case LayerSpec::Kind::ResBlock:
      return std::make_unique<ResBlock>(l.in, emb, l.out, scale_shift, l.resample);
    case LayerSpec::Kind::Attention:
      return std::make_unique<AttentionBlock>(l.in, l.heads);
    case LayerSpec::Kind::Downsample:
      return std::make_unique<Downsample>(l.in);
    case LayerSpec::Kind::Upsample:
      return std::make_unique<Upsample>(l.in);
  }
  SC_FAIL("unknown UNet layer kind");
}

// The weights build_layer's module holds (weights and biases; GroupNorm's scale and shift).
int64_t layer_parameters(const LayerSpec& l, int64_t emb, bool scale_shift) {
  const int64_t in = l.in, out = l.out;
  auto conv3x3_params = [](int64_t i, int64_t o) { return 9 * i * o + o; };
  switch (l.kind) {
    case LayerSpec::Kind::FirstConv:
    case LayerSpec::Kind::Downsample:
    case LayerSpec::Kind::Upsample:
      return conv3x3_params(in, out);
    case LayerSpec::Kind::ResBlock: {
      const int64_t emb_out = scale_shift ? 2 * out : out;
      const int64_t skip = out != in ? in * out + out : 0;  // 1×1 convolution when the width changes
      return 2 * in + conv3x3_params(in, out) + (emb * emb_out + emb_out) + 2 * out +
             conv3x3_params(out, out) + skip;
    }
    case LayerSpec::Kind::Attention:
      return 2 * in + (3 * in * in + 3 * in) + (in * in + in);  // norm, qkv, proj
  }
  SC_FAIL("unknown UNet layer kind");
}

}  // namespace

struct UNet::Impl {
  std::unique_ptr<Linear> time0, time2;
  std::vector<EmbBlock> input_blocks, output_blocks;
  EmbBlock middle;
  std::unique_ptr<GroupNorm32> out_norm;
  std::unique_ptr<Conv2d> out_conv;
};

UNetConfig UNetConfig::from_flags(const std::string& arch, const std::map<std::string, std::string>& flags) {
  SC_CHECK(arch == "iddpm_unet" || arch == "adm_unet", "unknown diffusion architecture '", arch, "'");
  UNetConfig c;
  c.arch = arch;
  std::string attention = "16,8";
  for (const auto& flag : flags) {
    const std::string &k = flag.first, &v = flag.second;  // named, not bound: lambdas below capture them
    const std::string what = "--" + k;
    auto integer = [&] {
      const auto x = parse_ints(v, what);
      SC_CHECK(x.size() == 1, what, " takes one integer");
      return x[0];
    };
    if (k == "image_size")
      c.image_size = integer();
    else if (k == "num_channels")
      c.model_channels = integer();
    else if (k == "num_res_blocks")
      c.num_res_blocks = integer();
    else if (k == "num_heads")
      c.num_heads = integer();
    else if (k == "num_heads_upsample")
      c.num_heads_upsample = integer();
    else if (k == "num_head_channels" && arch == "adm_unet")
      c.num_head_channels = integer();
    else if (k == "attention_resolutions")
      attention = v;
    else if (k == "channel_mult" && arch == "adm_unet")
      c.channel_mult = v.empty() ? std::vector<int64_t>{} : parse_ints(v, what);
    else if (k == "learn_sigma")
      c.learn_sigma = parse_bool(v, what);
    else if (k == "use_scale_shift_norm")
      c.use_scale_shift_norm = parse_bool(v, what);
    else if (k == "resblock_updown" && arch == "adm_unet")
      c.resblock_updown = parse_bool(v, what);
    else if (k == "class_cond")
      c.class_cond = parse_bool(v, what);
    else if (k == "dropout") {
      const auto p = parse_double(v);
      SC_CHECK(p && *p >= 0 && *p < 1, what, ": '", v, "' is not a dropout probability");
      c.dropout = *p;
    }
    // Flags of the diffusion process and of training, kept in the model file but not used by the network.
    else if (k == "diffusion_steps" || k == "noise_schedule" || k == "rescale_timesteps" ||
             k == "timestep_respacing" || k == "use_kl" || k == "predict_xstart" ||
             k == "rescale_learned_sigmas" || k == "use_checkpoint" || k == "use_fp16" ||
             k == "use_new_attention_order" || k == "in_channels")
      continue;
    else
      SC_FAIL("unknown flag --", k, " for ", arch);
  }
  if (flags.count("in_channels")) {
    const auto x = parse_ints(flags.at("in_channels"), "--in_channels");
    SC_CHECK(x.size() == 1, "--in_channels takes one integer");
    c.in_channels = x[0];
  }
  if (flags.count("use_new_attention_order"))
    SC_CHECK(!parse_bool(flags.at("use_new_attention_order"), "--use_new_attention_order"),
             "--use_new_attention_order True is not supported (only the legacy [q|k|v]-per-head layout)");
  SC_CHECK(!c.class_cond, "class-conditional UNets (--class_cond True) are not supported");
  if (c.channel_mult.empty()) {  // the reference scripts' choice from the image size
    const int64_t s = c.image_size;
    if (s == 256)
      c.channel_mult = {1, 1, 2, 2, 4, 4};
    else if (s == 128 && arch == "adm_unet")
      c.channel_mult = {1, 1, 2, 3, 4};
    else if (s == 64)
      c.channel_mult = {1, 2, 3, 4};
    else if (s == 32 && arch == "iddpm_unet")
      c.channel_mult = {1, 2, 2, 2};
    else
      SC_FAIL("no default channel_mult for image size ", s, " (give --channel_mult)");
  }
  for (int64_t res : parse_ints(attention, "--attention_resolutions")) {
    SC_CHECK(res > 0 && c.image_size % res == 0, "--attention_resolutions: ", res,
             " does not divide the image size");
    c.attention_ds.push_back(c.image_size / res);
  }
  if (c.num_heads_upsample == -1) c.num_heads_upsample = c.num_heads;
  // Ranges far beyond the published UNets (128–256 channels, 2–3 blocks, multipliers up to 4), checked before
  // a model file's flags build anything: a corrupt number must not allocate terabytes or divide by zero.
  auto in_range = [](int64_t v, int64_t lo, int64_t hi, const char* flag) {
    SC_CHECK(v >= lo && v <= hi, "UNet flag --", flag, " must be in [", lo, ", ", hi, "], got ", v);
  };
  in_range(c.image_size, 1, 4096, "image_size");
  in_range(c.in_channels, 1, 64, "in_channels");
  in_range(c.model_channels, 1, 4096, "num_channels");
  in_range(c.num_res_blocks, 1, 64, "num_res_blocks");
  in_range(c.num_heads, 1, 1024, "num_heads");
  in_range(c.num_heads_upsample, 1, 1024, "num_heads_upsample");
  if (c.num_head_channels != -1) in_range(c.num_head_channels, 1, 4096, "num_head_channels");
  SC_CHECK(!c.channel_mult.empty() && c.channel_mult.size() <= 8,
           "UNet flag --channel_mult needs 1 to 8 levels");
  for (int64_t m : c.channel_mult) in_range(m, 1, 64, "channel_mult");
  return c;
}

std::map<std::string, std::string> UNetConfig::to_flags() const {
  auto join = [](const std::vector<int64_t>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
    return s;
  };
  std::vector<int64_t> res;
  for (int64_t ds : attention_ds) res.push_back(image_size / ds);
  std::map<std::string, std::string> f = {{"image_size", std::to_string(image_size)},
                                          {"num_channels", std::to_string(model_channels)},
                                          {"num_res_blocks", std::to_string(num_res_blocks)},
                                          {"num_heads", std::to_string(num_heads)},
                                          {"num_heads_upsample", std::to_string(num_heads_upsample)},
                                          {"attention_resolutions", join(res)},
                                          {"learn_sigma", learn_sigma ? "True" : "False"},
                                          {"use_scale_shift_norm", use_scale_shift_norm ? "True" : "False"},
                                          {"in_channels", std::to_string(in_channels)}};
  if (arch == "adm_unet") {
    f["channel_mult"] = join(channel_mult);
    f["num_head_channels"] = std::to_string(num_head_channels);
    f["resblock_updown"] = resblock_updown ? "True" : "False";
  }
  return f;
}

UNet::UNet(const UNetConfig& c) : config_(c), impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  const int64_t mc = c.model_channels, emb = 4 * mc;
  const UNetLayout layout = unet_layout(c);
  auto build = [&](const BlockSpec& spec) {
    EmbBlock b;
    for (const LayerSpec& l : spec) b.push_back(build_layer(l, emb, c.use_scale_shift_norm));
    return b;
  };
  m.time0 = std::make_unique<Linear>(mc, emb);
  m.time2 = std::make_unique<Linear>(emb, emb);
  for (const BlockSpec& b : layout.input) m.input_blocks.push_back(build(b));
  m.middle = build(layout.middle);
  for (const BlockSpec& b : layout.output) m.output_blocks.push_back(build(b));
  m.out_norm = std::make_unique<GroupNorm32>(mc * c.channel_mult.front());
  m.out_conv = conv3x3(mc, c.out_channels());
}

int64_t UNetConfig::parameter_count() const {
  const int64_t mc = model_channels, emb = 4 * mc;
  const UNetLayout layout = unet_layout(*this);
  int64_t n = (mc * emb + emb) + (emb * emb + emb);  // time_embed.0, time_embed.2
  auto add = [&](const BlockSpec& b) {
    for (const LayerSpec& l : b) n += layer_parameters(l, emb, use_scale_shift_norm);
  };
  for (const BlockSpec& b : layout.input) add(b);
  add(layout.middle);
  for (const BlockSpec& b : layout.output) add(b);
  const int64_t last = mc * channel_mult.front();
  return n + 2 * last + (9 * mc * out_channels() + out_channels());  // out.0 (GroupNorm), out.2 (3×3 conv)
}

UNet::~UNet() = default;

Tensor UNet::forward(const Tensor& x, const Tensor& t) {
  const UNetConfig& c = config_;
  SC_CHECK(x.dim() == 4 && x.size(1) == c.in_channels && c.accepts_size(x.size(2), x.size(3)), c.arch,
           ": input ", x.describe(), " must be [B, ", c.in_channels, ", H, W] with H, W divisible by ",
           c.size_multiple());
  SC_CHECK(t.dim() == 1 && t.size(0) == x.size(0) && t.dtype() == DType::F32, c.arch,
           ": timesteps must be float32 [B], got ", t.describe());
  Impl& m = *impl_;
  const Tensor emb =
      m.time2->forward(ops::silu(m.time0->forward(ops::timestep_embedding(t, c.model_channels))));
  std::vector<Tensor> skips;
  Tensor h = x;
  for (auto& b : m.input_blocks) {
    h = run_block(b, h, emb);
    skips.push_back(h);
  }
  h = run_block(m.middle, h, emb);
  for (auto& b : m.output_blocks) {
    h = ops::concat({h, skips.back()}, 1);
    skips.pop_back();
    h = run_block(b, h, emb);
  }
  return m.out_conv->forward(ops::silu(m.out_norm->forward(h)));
}

void UNet::visit(UNetVisitor& v, float t) {
  Impl& m = *impl_;
  const Tensor ts = Tensor::full({1}, t, m.time0->weight.device());
  const Tensor emb =
      m.time2->forward(ops::silu(m.time0->forward(ops::timestep_embedding(ts, config_.model_channels))));
  for (auto& b : m.input_blocks) {
    for (auto& layer : b) layer->visit(v, emb);
    v.push_skip();
  }
  for (auto& layer : m.middle) layer->visit(v, emb);
  for (auto& b : m.output_blocks) {
    v.concat_skip();
    for (auto& layer : b) layer->visit(v, emb);
  }
  v.out(m.out_norm->weight, m.out_norm->bias, m.out_conv->weight, m.out_conv->bias);
}

void UNet::collect(const std::string& p, NamedTensors& out) {
  Impl& m = *impl_;
  m.time0->collect(join_key(p, "time_embed.0"), out);
  m.time2->collect(join_key(p, "time_embed.2"), out);
  for (size_t i = 0; i < m.input_blocks.size(); ++i)
    collect_block(m.input_blocks[i], join_key(p, "input_blocks." + std::to_string(i)), out);
  collect_block(m.middle, join_key(p, "middle_block"), out);
  for (size_t i = 0; i < m.output_blocks.size(); ++i)
    collect_block(m.output_blocks[i], join_key(p, "output_blocks." + std::to_string(i)), out);
  m.out_norm->collect(join_key(p, "out.0"), out);
  m.out_conv->collect(join_key(p, "out.2"), out);
}

}  // namespace sc
