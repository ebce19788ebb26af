#include "engine/fast_transformer.h"

#include <algorithm>
#include <vector>

#include "engine/schedule.h"
#include "kernels/argmax.h"
#include "kernels/attention_nhwc.h"
#include "kernels/fused_conv.h"
#include "kernels/layer_norm.h"
#include "kernels/pad_channels.h"
#include "kernels/patch_tokens.h"
#include "kernels/pooled_linear.h"

namespace sc {

namespace {

// A linear layer as a 1×1 convolution on token rows: weight [O, 1, 1, C] in the activation type, bias
// float32; the MLP's first layer with its GELU in the epilogue (the hidden activations are written once).
struct Linear1x1 {
  Tensor weight, bias;
  bool gelu = false;
  // x [B, 1, T, C] → [B, 1, T, O], plus `residual` (same shape as the output, or undefined) in the epilogue.
  Tensor run(const Tensor& x, const Tensor& residual, bool tf32) const {
    FusedConvParams p;
    p.tf32 = tf32;
    p.gelu = gelu;
    return ops::fused_conv(x, weight, bias, Tensor(), Tensor(), residual, p);
  }
};

struct Layer {
  Tensor norm1_weight, norm1_bias, norm2_weight, norm2_bias;
  Linear1x1 qkv, proj, fc1, fc2;
  RelativePositionBias bias;  // BEiT's, or none
};

std::vector<double> host_values(const Tensor& t) {
  const std::vector<float> f = t.cpu().contiguous().astype(DType::F32).to_float_vector();
  return {f.begin(), f.end()};
}

Tensor float_tensor(const std::vector<double>& v, const Shape& shape, Device device) {
  return Tensor::from_vector(std::vector<float>(v.begin(), v.end()), shape).to(device);
}

// Multiply-adds ×2 per sample: the patch convolution, every layer's linear layers and attention, the head.
double flops_per_sample_of(const TransformerView& v, int64_t classes) {
  const auto C = static_cast<double>(v.cls_token.numel()), T = static_cast<double>(v.positions.size(0));
  const double patch_taps = static_cast<double>(v.patch_weight.numel()) / C;  // channels · patch²
  double flops = 2.0 * (T - 1) * patch_taps * C + 2.0 * C * static_cast<double>(classes);
  for (const TransformerLayerView& l : v.layers) {
    const auto M = static_cast<double>(l.fc1_weight.size(0));
    flops += 2.0 * T * (4 * C * C + 2 * C * M) + 4.0 * T * T * C;  // qkv, proj, MLP; q·k and weights·v
  }
  return flops;
}

// What the fast path cannot run, or empty.
std::string unsupported(const TransformerView& v, const Device& device) {
  const int64_t d = v.cls_token.numel() / v.heads;
  if (!device.is_cpu() && !ops::attention_nhwc_supports(d))
    return "attention heads of " + std::to_string(d) + " channels on CUDA (16, 32 or 64 run there)";
  return "";
}

}  // namespace

struct FastTransformer::Program {
  int64_t dim = 0, heads = 0, patch = 0, in_channels = 0, mlp = 0, tokens = 0;
  double eps = 0;
  bool class_token_pooled = true;                         // else the patch tokens' mean (BEiT)
  Tensor patch_weight, patch_bias, cls_token, positions;  // patch weight [C, p, p, in_channels]
  std::vector<Layer> layers;
  Tensor norm_weight, norm_bias, head_weight, head_bias;
};

FastTransformer::FastTransformer(Classifier& model, Precision precision)
    : spec_(model.spec),
      device_(model.device()),
      precision_(precision),
      program_(std::make_unique<Program>()) {
  TransformerView v;
  SC_CHECK(model.net && describe_transformer(*model.net, v), "fast transformer: ", model.spec.arch,
           " is not a vision transformer");
  flops_ = flops_per_sample_of(v, spec_.num_classes);
  const std::string why = unsupported(v, device_);
  SC_CHECK(why.empty(), "no fast path for this transformer: ", why);
  const DType act = activation_dtype(precision);
  Program& p = *program_;
  const int64_t C = v.cls_token.numel();
  p.dim = C, p.heads = v.heads, p.patch = v.patch, p.eps = v.eps, p.tokens = v.positions.size(0);
  p.class_token_pooled = v.class_token_pooled;
  p.in_channels = tensor_core_input_channels(spec_.channels, precision);
  p.mlp = v.layers.empty() ? 0 : v.layers[0].fc1_weight.size(0);
  // w [O, I] (times γ per output row, if any) → [O, 1, 1, I] in the activation type; b (times γ) float32.
  const auto linear = [&](const Tensor& w, const Tensor& b, const Tensor& gamma) {
    std::vector<double> wd = host_values(w), bd = host_values(b);
    const int64_t O = w.size(0), I = w.size(1);
    if (gamma.defined()) {
      const std::vector<double> g = host_values(gamma);
      for (int64_t o = 0; o < O; ++o) {
        for (int64_t i = 0; i < I; ++i) wd[static_cast<size_t>(o * I + i)] *= g[static_cast<size_t>(o)];
        bd[static_cast<size_t>(o)] *= g[static_cast<size_t>(o)];
      }
    }
    return Linear1x1{float_tensor(wd, {O, 1, 1, I}, device_).astype(act), float_tensor(bd, {O}, device_)};
  };
  const auto vec = [&](const Tensor& t) { return t.contiguous().astype(DType::F32).to(device_); };

  // The patch convolution with the normalization folded in: w·(x − m)/s + b = (w/s)·x + (b − Σ w·m/s), its
  // weights to NHWC order [C, p, p, in_channels] with zero weights for the padded channels.
  {
    const int64_t ch = spec_.channels, k = v.patch;
    const std::vector<double> w = host_values(v.patch_weight);
    std::vector<double> b = host_values(v.patch_bias);
    std::vector<double> folded(static_cast<size_t>(C * k * k * p.in_channels), 0.0);
    for (int64_t o = 0; o < C; ++o)
      for (int64_t c = 0; c < ch; ++c) {
        const double m = spec_.mean.empty() ? 0.0 : spec_.mean[static_cast<size_t>(c)];
        const double s = spec_.std.empty() ? 1.0 : spec_.std[static_cast<size_t>(c)];
        for (int64_t r = 0; r < k * k; ++r) {
          const double wv = w[static_cast<size_t>((o * ch + c) * k * k + r)];
          folded[static_cast<size_t>((o * k * k + r) * p.in_channels + c)] = wv / s;
          b[static_cast<size_t>(o)] -= wv * m / s;
        }
      }
    p.patch_weight = float_tensor(folded, {C, k, k, p.in_channels}, device_).astype(act);
    p.patch_bias = float_tensor(b, {C}, device_);
  }
  p.cls_token = vec(v.cls_token);
  p.positions = vec(v.positions);

  // qkv rows from [q | k | v] with heads side by side to attention_nhwc's per-head [q_h | k_h | v_h].
  const int64_t d = C / v.heads;
  std::vector<int64_t> order(static_cast<size_t>(3 * C));
  for (int64_t h = 0; h < v.heads; ++h)
    for (int64_t part = 0; part < 3; ++part)
      for (int64_t j = 0; j < d; ++j)
        order[static_cast<size_t>(3 * d * h + d * part + j)] = part * C + d * h + j;
  for (const TransformerLayerView& l : v.layers) {
    const std::vector<double> w = host_values(l.qkv_weight), b = host_values(l.qkv_bias);
    std::vector<double> wp(w.size()), bp(b.size());
    for (int64_t r = 0; r < 3 * C; ++r) {
      const int64_t from = order[static_cast<size_t>(r)];
      std::copy_n(w.begin() + from * C, C, wp.begin() + r * C);
      bp[static_cast<size_t>(r)] = b[static_cast<size_t>(from)];
    }
    Layer layer;
    layer.norm1_weight = vec(l.norm1_weight), layer.norm1_bias = vec(l.norm1_bias);
    layer.norm2_weight = vec(l.norm2_weight), layer.norm2_bias = vec(l.norm2_bias);
    layer.qkv = linear(float_tensor(wp, {3 * C, C}, Device::cpu()), float_tensor(bp, {3 * C}, Device::cpu()),
                       Tensor());
    layer.proj = linear(l.proj_weight, l.proj_bias, l.gamma1);
    layer.fc1 = linear(l.fc1_weight, l.fc1_bias, Tensor());
    layer.fc1.gelu = true;
    layer.fc2 = linear(l.fc2_weight, l.fc2_bias, l.gamma2);
    if (l.relative_table.defined())
      layer.bias = {vec(l.relative_table), spec_.height / v.patch, spec_.width / v.patch};
    p.layers.push_back(std::move(layer));
  }
  p.norm_weight = vec(v.norm_weight), p.norm_bias = vec(v.norm_bias);
  p.head_weight = vec(v.head_weight), p.head_bias = vec(v.head_bias);
}

FastTransformer::~FastTransformer() = default;

double transformer_flops_per_sample(Classifier& model) {
  TransformerView v;
  if (!model.net || !describe_transformer(*model.net, v)) return 0.0;
  return flops_per_sample_of(v, model.spec.num_classes);
}

Tensor FastTransformer::logits(const Tensor& x) {
  const Program& p = *program_;
  check_dim(x, 4, "fast transformer", "x");
  SC_CHECK(x.dtype() == DType::F32 && x.size(1) == spec_.channels && x.size(2) == spec_.height &&
               x.size(3) == spec_.width,
           "fast transformer: x must be float32 [B, ", spec_.channels, ", ", spec_.height, ", ", spec_.width,
           "], got ", x.describe());
  check_same_device(x, p.patch_bias, "fast transformer");
  const int64_t B = x.size(0), C = p.dim, T = p.tokens, K = spec_.num_classes;
  Tensor out = Tensor::empty({B, K}, DType::F32, device_);
  if (B == 0) return out;
  // Every launch indexes in 32 bits: the batch runs in chunks whose largest tensor stays below 2^31 elements
  // (ViT-B/16 at 224²: 3,549 samples).
  const int64_t per_sample =
      std::max({T * std::max(3 * C, p.mlp), p.in_channels * spec_.height * spec_.width});
  const int64_t fits = std::max<int64_t>(1, kMaxLaunchElements / per_sample);
  const int64_t chunk = chunk_rows_ > 0 ? std::min(chunk_rows_, fits) : fits;
  const DType act = activation_dtype(precision_);
  const bool tf32 = precision_ == Precision::TF32;
  for (int64_t first = 0; first < B; first += chunk) {
    const int64_t n = std::min(chunk, B - first);
    Tensor image = x.slice(0, first, first + n);
    if (p.in_channels > spec_.channels)
      image = ops::pad_channels(image.contiguous(), 0, p.in_channels - spec_.channels);
    image = image.permute({0, 2, 3, 1}).contiguous().astype(act);
    FusedConvParams patch;
    patch.stride_h = patch.stride_w = p.patch;
    patch.tf32 = tf32;
    const Tensor patches =
        ops::fused_conv(image, p.patch_weight, p.patch_bias, Tensor(), Tensor(), Tensor(), patch);
    Tensor z = ops::patch_tokens_nhwc(patches.reshape({n, T - 1, C}), p.cls_token, p.positions)
                   .reshape({n, 1, T, C});
    for (const Layer& l : p.layers) {
      const Tensor qkv = l.qkv.run(ops::layer_norm(z, l.norm1_weight, l.norm1_bias, p.eps), Tensor(), tf32);
      Tensor attended = Tensor::empty({n, T, C}, act, device_);
      ops::attention_nhwc(qkv.reshape({n, T, 3 * C}), p.heads, attended, l.bias);
      z = l.proj.run(attended.reshape({n, 1, T, C}), z, tf32);  // z + γ₁·proj(attention)
      const Tensor hidden =
          l.fc1.run(ops::layer_norm(z, l.norm2_weight, l.norm2_bias, p.eps), Tensor(), tf32);
      z = l.fc2.run(hidden, z, tf32);  // z + γ₂·fc2(GELU(fc1(LN₂(z))))
    }
    // The class token, whose row alone the final LayerNorm needs (it acts on each token alone), or the patch
    // tokens' mean in float32 (BEiT), then the LayerNorm and the head.
    const Tensor pooled = p.class_token_pooled
                              ? z.slice(2, 0, 1).contiguous()
                              : mean_of_patch_tokens(z.reshape({n, T, C}).astype(DType::F32));
    const Tensor normed = ops::layer_norm(pooled.reshape({n, C}), p.norm_weight, p.norm_bias, p.eps);
    Tensor logits = out.slice(0, first, first + n);
    ops::pooled_linear(normed.reshape({n, 1, 1, C}), p.head_weight, p.head_bias, Tensor(), Tensor(), false,
                       logits);
  }
  return out;
}

Tensor FastTransformer::predict_labels(const Tensor& x) {
  return ops::argmax(logits(x));
}

bool fast_transformer_supports(Classifier& model, std::string& why) {
  TransformerView v;
  if (!model.net || !describe_transformer(*model.net, v)) {
    why = model.spec.arch + " is not a vision transformer";
    return false;
  }
  why = unsupported(v, model.device());
  return why.empty();
}

}  // namespace sc
