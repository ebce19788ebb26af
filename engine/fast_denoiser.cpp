#include "engine/fast_denoiser.h"

#include <utility>

#include "kernels/attention_nhwc.h"
#include "kernels/concat.h"
#include "kernels/fused_conv.h"
#include "kernels/group_norm_nhwc.h"
#include "kernels/pad_channels.h"
#include "kernels/pool2d_nhwc.h"
#include "kernels/upsample_nearest2x_nhwc.h"

namespace sc {

namespace {
constexpr int64_t kGroups = 32;  // GroupNorm32
constexpr double kEps = 1e-5;
constexpr int64_t kTensorCoreChannels = 8;  // fused_conv runs on tensor cores when O % 8 == 0

struct State {
  Tensor h;                   // the current NHWC map
  std::vector<Tensor> skips;  // the encoder's kept maps
};
}  // namespace

// The work per sample as a function of the input's size H×W (the network runs on any size its downsamplings
// divide): a convolution at downsampling rate d costs 2·|W|·(H/d)(W/d), an attention layer of C channels
// 4·C·T² for its T = (H/d)(W/d) positions (q·k and weights·v).
struct DenoiserWork {
  double conv_per_pixel = 0.0;                         // Σ 2·|W|/d² over the convolutions
  std::vector<std::pair<int64_t, int64_t>> attention;  // (C, d) of each attention layer
  double at(int64_t height, int64_t width) const {
    double flops = conv_per_pixel * static_cast<double>(height) * static_cast<double>(width);
    for (const auto& [C, d] : attention) {
      const auto T = static_cast<double>((height / d) * (width / d));
      flops += 4.0 * static_cast<double>(C) * T * T;
    }
    return flops;
  }
};

struct FastDenoiser::Program {
  std::vector<std::function<void(State&)>> steps;
  int64_t out_channels = 0;
  // the first convolution's input channels, zero-padded (tensor_core_input_channels)
  int64_t input_channels = 0;
  int64_t rate = 1;  // the map's downsampling rate while recording
  DenoiserWork work;
};

namespace {

[[noreturn]] void unsupported(const std::string& what) {
  SC_FAIL("no fast path for this denoiser: ", what);
}

Tensor upsample2x(const Tensor& x) {  // nearest, NHWC
  Tensor up = Tensor::empty({x.size(0), 2 * x.size(1), 2 * x.size(2), x.size(3)}, x.dtype(), x.device());
  ops::upsample_nearest2x_nhwc(x, up);
  return up;
}

Tensor avg_pool2x2(const Tensor& x) {  // stride 2, NHWC
  const Pool2dParams p = Pool2dParams::square(2, 2);
  Tensor y = Tensor::empty(ops::pool2d_nhwc_shape(x, p), x.dtype(), x.device());
  ops::pool2d_nhwc(PoolKind::Avg, x, p, y);
  return y;
}

// Records the UNet's layers as steps on NHWC maps, with the parameters converted once.
class Recorder : public UNetVisitor {
 public:
  // count_only: only prog.work is wanted; no parameters are converted.
  Recorder(FastDenoiser::Program& prog, Device device, Precision precision, bool count_only = false)
      : prog_(prog),
        device_(device),
        precision_(precision),
        act_(activation_dtype(precision)),
        tf32_(precision == Precision::TF32),
        count_only_(count_only) {}

  void conv(const Tensor& w, const Tensor& b, int64_t stride) override {
    prog_.rate *= stride;
    // The first convolution reads the image's few channels (3): padded with zero channels to what the
    // tensor-core kernels take, on its input (FastDenoiser::denoise) and its weights alike.
    const bool first = prog_.steps.empty();
    if (first) prog_.input_channels = tensor_core_input_channels(w.size(1), precision_);
    Conv c = make_conv(w, b, stride, 1, first ? prog_.input_channels : 1);
    prog_.steps.push_back([c](State& s) { s.h = c.run(s.h, Tensor()); });
  }
  void upsample_conv(const Tensor& w, const Tensor& b) override {
    prog_.rate /= 2;
    Conv c = make_conv(w, b, 1);
    prog_.steps.push_back([c](State& s) { s.h = c.run(upsample2x(s.h), Tensor()); });
  }
  void res_block(const UNetResBlockView& r) override {
    // guided-diffusion's resampling ResBlocks (resblock_updown) resample h after its norm and SiLU, and x
    // for the skip; both convolutions then run at the new size.
    const int resample = r.resample;
    if (resample > 0) prog_.rate /= 2;
    if (resample < 0) prog_.rate *= 2;
    const int64_t out = r.out_weight.size(0);
    const std::vector<float> e = r.emb_out.cpu().to_float_vector();
    Norm in_norm = make_norm(r.in_gamma, r.in_beta, nullptr, nullptr, true);
    Norm out_norm;
    Tensor in_bias = r.in_bias;
    if (r.scale_shift) {  // norm(h)·(1 + scale) + shift, folded into the norm's affine
      out_norm = make_norm(r.out_gamma, r.out_beta, e.data(), e.data() + out, true);
    } else {  // (h + e): added to the convolution's bias before the norm
      std::vector<float> b = r.in_bias.cpu().to_float_vector();
      for (int64_t o = 0; o < out; ++o) b[static_cast<size_t>(o)] += e[static_cast<size_t>(o)];
      in_bias = Tensor::from_vector(b, {out});
      out_norm = make_norm(r.out_gamma, r.out_beta, nullptr, nullptr, true);
    }
    Conv in_conv = make_conv(r.in_weight, in_bias, 1), out_conv = make_conv(r.out_weight, r.out_bias, 1);
    const bool has_skip = r.skip_weight != nullptr;
    Conv skip = has_skip ? make_conv(*r.skip_weight, *r.skip_bias, 1) : Conv{};
    prog_.steps.push_back([=](State& s) {
      auto resampled = [resample](const Tensor& x) {
        return resample > 0 ? upsample2x(x) : resample < 0 ? avg_pool2x2(x) : x;
      };
      const Tensor x = resampled(s.h);
      const Tensor a = out_norm.run(in_conv.run(resampled(in_norm.run(s.h)), Tensor()));
      const Tensor shortcut = has_skip ? skip.run(x, Tensor()) : x;
      s.h = out_conv.run(a, shortcut);  // out_layers(...) + skip, the add in the epilogue
    });
  }
  void attention(const Tensor& gamma, const Tensor& beta, const Tensor& qkv_w, const Tensor& qkv_b,
                 const Tensor& proj_w, const Tensor& proj_b, int64_t heads) override {
    const int64_t C = proj_w.size(0);
    prog_.work.attention.emplace_back(C, prog_.rate);
    if (!count_only_ && !device_.is_cpu() && !ops::attention_nhwc_supports(C / heads))
      unsupported("attention heads of " + std::to_string(C / heads) + " channels on CUDA");
    Norm norm = make_norm(gamma, beta, nullptr, nullptr, false);
    Conv qkv = make_conv(qkv_w, qkv_b, 1), proj = make_conv(proj_w, proj_b, 1);
    prog_.steps.push_back([=](State& s) {
      const Tensor& x = s.h;
      const int64_t N = x.size(0), T = x.size(1) * x.size(2);
      const Tensor q = qkv.run(norm.run(x), Tensor()).reshape({N, T, 3 * C});
      Tensor o = Tensor::empty({N, T, C}, x.dtype(), x.device());
      ops::attention_nhwc(q, heads, o);
      s.h = proj.run(o.reshape(x.shape()), x);  // x + proj_out(attention)
    });
  }
  void push_skip() override {
    prog_.steps.push_back([](State& s) { s.skips.push_back(s.h); });
  }
  void concat_skip() override {
    prog_.steps.push_back([](State& s) {
      s.h = ops::concat({s.h, s.skips.back()}, 3);
      s.skips.pop_back();
    });
  }
  void out(const Tensor& gamma, const Tensor& beta, const Tensor& w, const Tensor& b) override {
    const int64_t C = prog_.out_channels;  // only ε: the variance channels are not needed
    Norm norm = make_norm(gamma, beta, nullptr, nullptr, true);
    Conv conv =
        make_conv(w.slice(0, 0, C).contiguous(), b.slice(0, 0, C).contiguous(), 1, kTensorCoreChannels);
    // The padded channels (zero weights) are dropped again: 3 of 8 written, still far faster than the
    // float32 tile kernel that 3 output channels would take (7.2 of 67 ms per 500-sample DDS batch, H100).
    prog_.steps.push_back([=](State& s) {
      s.h = conv.run(norm.run(s.h), Tensor());
      if (s.h.size(3) != C) s.h = s.h.slice(3, 0, C).contiguous();
    });
  }

 private:
  struct Conv {
    Tensor weight, bias;  // [O, KH, KW, C] in the activation type; float32
    FusedConvParams params;
    Tensor run(const Tensor& x, const Tensor& residual) const {
      return ops::fused_conv(x, weight, bias, Tensor(), Tensor(), residual, params);
    }
  };
  struct Norm {
    Tensor gamma, beta;
    bool silu = false;
    Tensor run(const Tensor& x) const {
      Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
      ops::group_norm_nhwc(x, kGroups, gamma, beta, kEps, silu, y);
      return y;
    }
  };

  // Converts a convolution's parameters and counts its work at the current rate (after any stride). The
  // output channels are padded with zero filters to a multiple of out_multiple, the input channels with zero
  // weights to in_channels (the work counts the real ones).
  Conv make_conv(const Tensor& w, const Tensor& b, int64_t stride, int64_t out_multiple = 1,
                 int64_t in_channels = 1) const {
    prog_.work.conv_per_pixel +=
        2.0 * static_cast<double>(w.numel()) / static_cast<double>(prog_.rate * prog_.rate);
    if (count_only_) return Conv{};
    Tensor host = w.cpu().contiguous().astype(DType::F32);
    if (host.dim() == 3)
      host = host.reshape({host.size(0), host.size(1), host.size(2), 1});  // Conv1d, kernel 1
    if (in_channels > host.size(1)) host = ops::pad_channels(host, 0, in_channels - host.size(1));
    std::vector<float> weights = host.to_float_vector(), bias = b.cpu().astype(DType::F32).to_float_vector();
    const int64_t O = host.size(0), padded = (O + out_multiple - 1) / out_multiple * out_multiple;
    weights.resize(static_cast<size_t>(padded * host.numel() / O), 0.0f);
    bias.resize(static_cast<size_t>(padded), 0.0f);
    host = Tensor::from_vector(weights, {padded, host.size(1), host.size(2), host.size(3)});
    Conv c;
    c.weight = host.permute({0, 2, 3, 1}).contiguous().astype(act_).to(device_);
    c.bias = Tensor::from_vector(bias, {padded}).to(device_);
    c.params.stride_h = c.params.stride_w = stride;
    c.params.pad_h = host.size(2) / 2, c.params.pad_w = host.size(3) / 2;
    c.params.tf32 = tf32_;
    return c;
  }
  // γ(1 + s) and β(1 + s) + shift in double, rounded once (s, shift: null for none).
  Norm make_norm(const Tensor& gamma, const Tensor& beta, const float* scale, const float* shift,
                 bool silu) const {
    if (count_only_) return Norm{};
    std::vector<float> g = gamma.cpu().to_float_vector(), b = beta.cpu().to_float_vector();
    for (size_t c = 0; c < g.size(); ++c) {
      const double s = scale ? 1.0 + static_cast<double>(scale[c]) : 1.0;
      g[c] = static_cast<float>(g[c] * s);
      b[c] = static_cast<float>(b[c] * s + (shift ? shift[c] : 0.0));
    }
    const auto C = static_cast<int64_t>(g.size());
    return Norm{Tensor::from_vector(g, {C}).to(device_), Tensor::from_vector(b, {C}).to(device_), silu};
  }

  FastDenoiser::Program& prog_;
  Device device_;
  Precision precision_;
  DType act_;
  bool tf32_;
  bool count_only_;
};

}  // namespace

FastDenoiser::FastDenoiser(DiffusionModel& model, double sigma, Precision precision)
    : model_(model), precision_(precision), program_(std::make_unique<Program>()) {
  SC_CHECK(model.unet != nullptr, "fast denoiser: no UNet");
  const UNetConfig& c = model.unet->config();  // sizes validated by UNetConfig::from_flags
  step_ = one_shot_step(model, sigma);
  program_->out_channels = c.in_channels;
  Recorder rec(*program_, model.unet->device(), precision);
  model.unet->visit(rec, step_.t_input);
}

FastDenoiser::~FastDenoiser() = default;

double FastDenoiser::flops_per_sample(int64_t height, int64_t width) const {
  return program_->work.at(height, width);
}

int64_t FastDenoiser::input_channels() const {
  return program_->input_channels;
}

double denoiser_flops_per_sample(DiffusionModel& model, int64_t height, int64_t width) {
  SC_CHECK(model.unet != nullptr, "denoiser_flops_per_sample: no UNet");
  FastDenoiser::Program prog;
  prog.out_channels = model.unet->config().in_channels;
  Recorder rec(prog, model.unet->device(), Precision::FP32, true);
  model.unet->visit(rec, 0.0);
  return prog.work.at(height, width);
}

Tensor FastDenoiser::denoise(const Tensor& x) {
  const UNetConfig& c = model_.unet->config();
  check_dim(x, 4, "fast denoiser", "x");
  SC_CHECK(x.size(1) == c.in_channels && x.dtype() == DType::F32 && c.accepts_size(x.size(2), x.size(3)),
           "fast denoiser: x must be float32 [B, ", c.in_channels, ", H, W] with H, W divisible by ",
           c.size_multiple(), ", got ", x.describe());
  const Tensor xt = one_shot_input(step_, x);
  State s;
  const int64_t pad = program_->input_channels - xt.size(1);  // zero channels for the first convolution
  s.h = (pad > 0 ? ops::pad_channels(xt, 0, pad) : xt)
            .permute({0, 2, 3, 1})
            .contiguous()
            .astype(activation_dtype(precision_));
  for (const auto& step : program_->steps) step(s);
  const Tensor eps = s.h.astype(DType::F32).permute({0, 3, 1, 2}).contiguous();
  return one_shot_estimate(step_, xt, eps);
}

std::unique_ptr<FastDenoiser> make_fast_denoiser(DiffusionModel& model, double sigma,
                                                 const std::string& engine, Precision precision,
                                                 std::string& note) {
  SC_CHECK(engine == "auto" || engine == "fast" || engine == "generic", "unknown engine '", engine,
           "' (expected auto, fast or generic)");
  if (engine == "generic") {
    note = "generic denoiser (fp32)";
    return nullptr;
  }
  try {
    auto fast = std::make_unique<FastDenoiser>(model, sigma, precision);
    note = std::string("fast denoiser (") + precision_name(precision) + ")";
    return fast;
  } catch (const Error& e) {
    SC_CHECK(engine != "fast", "--engine fast: ", e.what());
    note = std::string("generic denoiser (fp32; ") + e.what() + ")";
    return nullptr;
  }
}

}  // namespace sc
