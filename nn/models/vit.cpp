// Vision transformers: pre-norm layers over the tokens [class, patch convolution of x] (+ positions):
//   z = z + γ₁ ⊙ proj(attention(qkv(LN₁(z))))
//   z = z + γ₂ ⊙ fc2(GELU(fc1(LN₂(z))))
// then a LayerNorm of the pooled tokens and a linear head. Three layouts, each with its checkpoints' key
// names:
// - vit: Hugging Face's ViTForImageClassification (DDS's CIFAR-10 classifier). Separate query/key/value
//   projections, learned absolute positions, no γ, the class token pooled. LayerNorm eps 1e-12 (ViTConfig's).
//   Keys: vit.embeddings.{cls_token, position_embeddings, patch_embeddings.projection},
//   vit.encoder.layer.i.{layernorm_before, attention.attention.{query, key, value}, attention.output.dense,
//   layernorm_after, intermediate.dense, output.dense}, vit.layernorm, classifier.
// - beit: timm's Beit as beit_*_patch16_* configure it (DDS's ImageNet classifier is beit_large_patch16_512).
//   One qkv projection without bias plus q_bias and v_bias (the keys get none), a relative position bias
//   table per layer added to the attention scores (kernels/relative_position.h), no absolute positions (flag
//   abs_pos 1 adds them), layer scales γ₁ γ₂, the patch tokens' mean pooled. LayerNorm eps 1e-6 (timm's).
//   Keys: cls_token, [pos_embed], patch_embed.proj, blocks.i.{norm1, attn.{qkv.weight, q_bias, v_bias,
//   relative_position_bias_table, proj}, norm2, mlp.{fc1, fc2}, gamma_1, gamma_2}, fc_norm, head.
// - timm_vit: timm's VisionTransformer with a class token pooled (vit_*_patch*_*, DeiT). One qkv projection
// with
//   bias, learned absolute positions (the class token's included), layer scales only with flag layer_scale 1
//   (ls1, ls2), LayerNorm eps 1e-6. Keys: cls_token, pos_embed, patch_embed.proj, blocks.i.{norm1,
//   attn.{qkv, proj}, norm2, mlp.{fc1, fc2}, [ls1.gamma, ls2.gamma]}, norm, head.
// GELU is the exact (erf) one in both. Tokens are rows [B, T, C]: every Linear acts on [B·T, C]. Forward,
// input and parameter gradients; no interval bounds. describe_transformer hands the tensors to the fast
// engine (engine/fast_transformer.h).
#include "nn/models/vit.h"

#include <utility>

#include "kernels/adaptive_avg_pool2d.h"
#include "kernels/channel_sums.h"
#include "kernels/concat.h"
#include "kernels/elementwise.h"
#include "kernels/gelu.h"
#include "kernels/last_dim_affine.h"
#include "kernels/layer_norm.h"
#include "kernels/patch_tokens.h"
#include "kernels/relative_position.h"
#include "kernels/token_attention.h"

namespace sc {

namespace {
class LayerNorm : public Module {
 public:
  LayerNorm(int64_t C, double eps) : weight(Tensor::full({C}, 1.0f)), bias(Tensor::zeros({C})), eps_(eps) {}
  Tensor forward(const Tensor& x) override {
    input_.keep(x);
    return ops::layer_norm(x, weight, bias, eps_);
  }
  Tensor backward(const Tensor& dy) override {
    LayerNormGradients g = ops::layer_norm_backward(dy.contiguous(), input_.get(*this), weight, eps_);
    if (ParameterGradients* sink = parameter_gradients()) {
      sink->accumulate(weight, g.dweight);
      sink->accumulate(bias, g.dbias);
    }
    return g.dx;
  }
  void collect(const std::string& prefix, NamedTensors& out) override {
    out.emplace_back(join_key(prefix, "weight"), &weight);
    out.emplace_back(join_key(prefix, "bias"), &bias);
  }
  std::string name() const override { return "LayerNorm"; }
  Tensor weight, bias;

 private:
  double eps_;
  Saved<Tensor> input_;
};

// A residual branch's layer scale: y = u ⊙ γ (γ undefined: y = u). Backward: dy ⊙ γ, and dγ = Σ_rows dy ⊙ u.
class LayerScale {
 public:
  explicit LayerScale(int64_t C, bool on) : gamma(on ? Tensor::full({C}, 1.0f) : Tensor()) {}
  Tensor forward(const Tensor& u) {
    if (!gamma.defined()) return u;
    branch_.keep(u);
    return ops::last_dim_affine(u, gamma, Tensor());
  }
  Tensor backward(const Tensor& dy, const Module& owner) {
    if (!gamma.defined()) return dy;
    if (ParameterGradients* sink = parameter_gradients())
      sink->accumulate(gamma, ops::channel_sums(ops::mul(dy, branch_.get(owner))));
    return ops::last_dim_affine(dy, gamma, Tensor());
  }
  Tensor gamma;

 private:
  Saved<Tensor> branch_;
};

struct LayerConfig {
  int64_t dim, heads, mlp;
  double eps;
  bool layer_scale;
  int64_t grid_h = 0, grid_w = 0;  // BEiT's relative position bias over this patch grid (0: none)
};

// One pre-norm transformer layer on tokens [B, T, C]; the subclasses make qkv [B·T, 3C] from LN₁(z) and name
// the tensors.
class TransformerLayer : public Module {
 public:
  explicit TransformerLayer(const LayerConfig& c)
      : config_(c),
        norm1_(c.dim, c.eps),
        norm2_(c.dim, c.eps),
        proj_(c.dim, c.dim),
        fc1_(c.dim, c.mlp),
        fc2_(c.mlp, c.dim),
        scale1_(c.dim, c.layer_scale),
        scale2_(c.dim, c.layer_scale) {
    if (c.grid_h > 0) relative_table_ = Tensor::zeros({relative_position_rows(c.grid_h, c.grid_w), c.heads});
  }

  Tensor forward(const Tensor& x) override {
    const int64_t B = x.size(0), T = x.size(1), C = x.size(2);
    const Tensor rows = x.reshape({B * T, C});
    const Tensor qkv = make_qkv(norm1_.forward(rows)).reshape({B, T, 3 * C});
    qkv_.keep(qkv);
    const Tensor attended = ops::token_attention(qkv, config_.heads, relative_bias()).reshape({B * T, C});
    const Tensor z = ops::add(rows, scale1_.forward(proj_.forward(attended)));
    const Tensor pre_gelu = fc1_.forward(norm2_.forward(z));
    pre_gelu_.keep(pre_gelu);
    return ops::add(z, scale2_.forward(fc2_.forward(ops::gelu(pre_gelu)))).reshape({B, T, C});
  }

  Tensor backward(const Tensor& dy) override {
    const Tensor& qkv = qkv_.get(*this);
    const int64_t B = qkv.size(0), T = qkv.size(1), C = qkv.size(2) / 3;
    const Tensor g = dy.contiguous().reshape({B * T, C});
    const Tensor dpre = ops::gelu_backward(fc2_.backward(scale2_.backward(g, *this)), pre_gelu_.get(*this));
    const Tensor dz = ops::add(g, norm2_.backward(fc1_.backward(dpre)));
    const Tensor dattended = proj_.backward(scale1_.backward(dz, *this)).reshape({B, T, C});
    ParameterGradients* sink = parameter_gradients();
    Tensor dbias;
    const Tensor dqkv = ops::token_attention_backward(dattended, qkv, config_.heads, relative_bias(),
                                                      sink && relative_table_.defined() ? &dbias : nullptr);
    if (dbias.defined()) sink->accumulate(relative_table_, gather_table_gradient(dbias));
    return ops::add(dz, norm1_.backward(qkv_backward(dqkv.reshape({B * T, 3 * C})))).reshape({B, T, C});
  }

  TransformerLayerView describe() const {
    TransformerLayerView v;
    v.norm1_weight = norm1_.weight, v.norm1_bias = norm1_.bias;
    describe_qkv(v.qkv_weight, v.qkv_bias);
    v.proj_weight = proj_.weight, v.proj_bias = proj_.bias;
    v.norm2_weight = norm2_.weight, v.norm2_bias = norm2_.bias;
    v.fc1_weight = fc1_.weight, v.fc1_bias = fc1_.bias;
    v.fc2_weight = fc2_.weight, v.fc2_bias = fc2_.bias;
    v.gamma1 = scale1_.gamma, v.gamma2 = scale2_.gamma;
    v.relative_table = relative_table_;
    return v;
  }

 protected:
  virtual Tensor make_qkv(const Tensor& a) = 0;
  virtual void describe_qkv(Tensor& weight, Tensor& bias) const = 0;  // fused [3C, C] and [3C]
  virtual Tensor qkv_backward(const Tensor& dqkv) = 0;
  // The shared tensors under their names in this layout.
  void collect_common(const std::string& prefix, NamedTensors& out, const char* norm1, const char* proj,
                      const char* norm2, const char* fc1, const char* fc2, const char* gamma1 = "gamma_1",
                      const char* gamma2 = "gamma_2") {
    norm1_.collect(join_key(prefix, norm1), out);
    proj_.collect(join_key(prefix, proj), out);
    norm2_.collect(join_key(prefix, norm2), out);
    fc1_.collect(join_key(prefix, fc1), out);
    fc2_.collect(join_key(prefix, fc2), out);
    if (relative_table_.defined())
      out.emplace_back(join_key(prefix, "attn.relative_position_bias_table"), &relative_table_);
    if (scale1_.gamma.defined()) {
      out.emplace_back(join_key(prefix, gamma1), &scale1_.gamma);
      out.emplace_back(join_key(prefix, gamma2), &scale2_.gamma);
    }
  }
  LayerConfig config_;

 private:
  RelativePositionBias relative_bias() const { return {relative_table_, config_.grid_h, config_.grid_w}; }
  // The table's gradient: each pair's Σ_b ∂L/∂score [heads, T, T] added into the row it read.
  Tensor gather_table_gradient(const Tensor& dbias) const {
    const int64_t H = config_.heads, T = dbias.size(1);
    const std::vector<float> d = dbias.cpu().to_float_vector();
    std::vector<double> sum(static_cast<size_t>(relative_table_.numel()), 0.0);
    for (int64_t h = 0; h < H; ++h)
      for (int64_t t = 0; t < T; ++t)
        for (int64_t s = 0; s < T; ++s)
          sum[static_cast<size_t>(relative_position_index(t, s, config_.grid_h, config_.grid_w) * H + h)] +=
              d[static_cast<size_t>((h * T + t) * T + s)];
    return Tensor::from_vector(std::vector<float>(sum.begin(), sum.end()), relative_table_.shape())
        .to(relative_table_.device());
  }

  LayerNorm norm1_, norm2_;
  Linear proj_, fc1_, fc2_;
  LayerScale scale1_, scale2_;
  Tensor relative_table_;
  Saved<Tensor> qkv_, pre_gelu_;  // the attention's input and GELU's
};

// Hugging Face's ViTLayer: separate query, key and value projections.
class VitLayer : public TransformerLayer {
 public:
  explicit VitLayer(const LayerConfig& c)
      : TransformerLayer(c), query_(c.dim, c.dim), key_(c.dim, c.dim), value_(c.dim, c.dim) {}
  void collect(const std::string& prefix, NamedTensors& out) override {
    query_.collect(join_key(prefix, "attention.attention.query"), out);
    key_.collect(join_key(prefix, "attention.attention.key"), out);
    value_.collect(join_key(prefix, "attention.attention.value"), out);
    collect_common(prefix, out, "layernorm_before", "attention.output.dense", "layernorm_after",
                   "intermediate.dense", "output.dense");
  }
  std::string name() const override { return "VitLayer"; }

 protected:
  Tensor make_qkv(const Tensor& a) override {
    return ops::concat({query_.forward(a), key_.forward(a), value_.forward(a)}, 1);
  }
  void describe_qkv(Tensor& weight, Tensor& bias) const override {
    weight = ops::concat({query_.weight, key_.weight, value_.weight}, 0);
    bias = ops::concat({query_.bias, key_.bias, value_.bias}, 0);
  }
  Tensor qkv_backward(const Tensor& dqkv) override {
    const int64_t C = config_.dim;
    Tensor da = query_.backward(dqkv.slice(1, 0, C).contiguous());
    da = ops::add(da, key_.backward(dqkv.slice(1, C, 2 * C).contiguous()));
    return ops::add(da, value_.backward(dqkv.slice(1, 2 * C, 3 * C).contiguous()));
  }

 private:
  Linear query_, key_, value_;
};

// timm's Beit Block: one qkv projection; its bias [q_bias | 0 | v_bias].
class BeitLayer : public TransformerLayer {
 public:
  explicit BeitLayer(const LayerConfig& c)
      : TransformerLayer(c),
        qkv_(c.dim, 3 * c.dim, false),
        q_bias_(Tensor::zeros({c.dim})),
        v_bias_(Tensor::zeros({c.dim})) {}
  void collect(const std::string& prefix, NamedTensors& out) override {
    qkv_.collect(join_key(prefix, "attn.qkv"), out);
    out.emplace_back(join_key(prefix, "attn.q_bias"), &q_bias_);
    out.emplace_back(join_key(prefix, "attn.v_bias"), &v_bias_);
    collect_common(prefix, out, "norm1", "attn.proj", "norm2", "mlp.fc1", "mlp.fc2");
  }
  std::string name() const override { return "BeitLayer"; }

 protected:
  Tensor make_qkv(const Tensor& a) override {
    return ops::last_dim_affine(qkv_.forward(a), Tensor(), qkv_bias());
  }
  void describe_qkv(Tensor& weight, Tensor& bias) const override {
    weight = qkv_.weight;
    bias = qkv_bias();
  }
  Tensor qkv_backward(const Tensor& dqkv) override {
    if (ParameterGradients* sink = parameter_gradients()) {
      const Tensor sums = ops::channel_sums(dqkv);
      sink->accumulate(q_bias_, sums.slice(0, 0, config_.dim).clone());
      sink->accumulate(v_bias_, sums.slice(0, 2 * config_.dim, 3 * config_.dim).clone());
    }
    return qkv_.backward(dqkv);
  }

 private:
  Tensor qkv_bias() const {  // [q_bias | 0 | v_bias]
    return ops::concat({q_bias_, Tensor::zeros({config_.dim}, DType::F32, q_bias_.device()), v_bias_}, 0);
  }
  Linear qkv_;
  Tensor q_bias_, v_bias_;
};

// timm's VisionTransformer Block: one qkv projection with bias.
class TimmVitLayer : public TransformerLayer {
 public:
  explicit TimmVitLayer(const LayerConfig& c) : TransformerLayer(c), qkv_(c.dim, 3 * c.dim) {}
  void collect(const std::string& prefix, NamedTensors& out) override {
    qkv_.collect(join_key(prefix, "attn.qkv"), out);
    collect_common(prefix, out, "norm1", "attn.proj", "norm2", "mlp.fc1", "mlp.fc2", "ls1.gamma",
                   "ls2.gamma");
  }
  std::string name() const override { return "TimmVitLayer"; }

 protected:
  Tensor make_qkv(const Tensor& a) override { return qkv_.forward(a); }
  void describe_qkv(Tensor& weight, Tensor& bias) const override {
    weight = qkv_.weight;
    bias = qkv_.bias;
  }
  Tensor qkv_backward(const Tensor& dqkv) override { return qkv_.backward(dqkv); }

 private:
  Linear qkv_;
};

enum class Layout { HuggingFaceVit, TimmBeit, TimmVit };

// The whole network on normalized images [B, channels, H, W] → logits [B, classes].
class VisionTransformer : public Module {
 public:
  VisionTransformer(Layout layout, const ModelSpec& s, int64_t patch, int64_t depth, const LayerConfig& c,
                    bool positions)
      : layout_(layout),
        patch_(s.channels, c.dim, patch, Conv2dParams::square(patch, 0)),
        cls_token_(Tensor::zeros({1, 1, c.dim})),
        positions_(Tensor::zeros({1, (s.height / patch) * (s.width / patch) + 1, c.dim})),
        learned_positions_(positions),
        heads_(c.heads),
        eps_(c.eps),
        final_norm_(c.dim, c.eps),
        head_(c.dim, s.num_classes) {
    for (int64_t i = 0; i < depth; ++i) {
      if (layout == Layout::HuggingFaceVit)
        layers_.push_back(std::make_unique<VitLayer>(c));
      else if (layout == Layout::TimmBeit)
        layers_.push_back(std::make_unique<BeitLayer>(c));
      else
        layers_.push_back(std::make_unique<TimmVitLayer>(c));
    }
  }

  Tensor forward(const Tensor& x) override {
    const Tensor p = patch_.forward(x);  // [B, C, h, w]
    const int64_t B = p.size(0), C = p.size(1), T = p.size(2) * p.size(3) + 1;
    patch_grid_.keep(p.shape());
    Tensor z =
        ops::patch_tokens(p.reshape({B, C, T - 1}), cls_token_.reshape({C}), positions_.reshape({T, C}));
    for (auto& layer : layers_) z = layer->forward(z);
    return head_.forward(final_norm_.forward(pool(z)));
  }

  Tensor backward(const Tensor& dy) override {
    const Shape& grid = patch_grid_.get(*this);
    const int64_t B = grid[0], C = grid[1], T = grid[2] * grid[3] + 1;
    Tensor dz = unpool(final_norm_.backward(head_.backward(dy)), B, T, C);
    for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) dz = (*it)->backward(dz);
    PatchTokenGradients g = ops::patch_tokens_backward(dz);
    if (ParameterGradients* sink = parameter_gradients()) {
      sink->accumulate(cls_token_, g.dcls.reshape(cls_token_.shape()));
      if (learned_positions_) sink->accumulate(positions_, g.dpos.reshape(positions_.shape()));
    }
    return patch_.backward(g.dpatches.reshape(grid));
  }

  void collect(const std::string& prefix, NamedTensors& out) override {
    const bool hf = layout_ == Layout::HuggingFaceVit;
    out.emplace_back(join_key(prefix, hf ? "vit.embeddings.cls_token" : "cls_token"), &cls_token_);
    // Without learned positions the zeros move with the model but are no key of its state dict.
    const std::string positions = hf ? "vit.embeddings.position_embeddings" : "pos_embed";
    out.emplace_back(learned_positions_ ? join_key(prefix, positions) : "", &positions_);
    patch_.collect(join_key(prefix, hf ? "vit.embeddings.patch_embeddings.projection" : "patch_embed.proj"),
                   out);
    for (size_t i = 0; i < layers_.size(); ++i)
      layers_[i]->collect(join_key(prefix, (hf ? "vit.encoder.layer." : "blocks.") + std::to_string(i)), out);
    final_norm_.collect(join_key(prefix, hf                            ? "vit.layernorm"
                                         : layout_ == Layout::TimmBeit ? "fc_norm"
                                                                       : "norm"),
                        out);
    head_.collect(join_key(prefix, hf ? "classifier" : "head"), out);
  }
  std::string name() const override { return "VisionTransformer"; }

  TransformerView describe() const {
    TransformerView v;
    v.patch = patch_.params.stride_h;
    v.heads = heads_;
    v.eps = eps_;
    v.class_token_pooled = layout_ != Layout::TimmBeit;
    v.patch_weight = patch_.weight, v.patch_bias = patch_.bias;
    const int64_t C = cls_token_.numel();
    v.cls_token = cls_token_.reshape({C});
    v.positions = positions_.reshape({positions_.numel() / C, C});
    for (const auto& layer : layers_) v.layers.push_back(layer->describe());
    v.norm_weight = final_norm_.weight, v.norm_bias = final_norm_.bias;
    v.head_weight = head_.weight, v.head_bias = head_.bias;
    return v;
  }

 private:
  // The class token (vit, timm_vit; the final LayerNorm acts on each token alone, so only its is computed) or
  // the mean of the patch tokens (beit): [B, T, C] → [B, C].
  Tensor pool(const Tensor& z) const {
    const int64_t B = z.size(0), C = z.size(2);
    if (layout_ != Layout::TimmBeit) return z.slice(1, 0, 1).reshape({B, C});
    return mean_of_patch_tokens(z);
  }
  // pool's backward: dpooled [B, C] → dz [B, T, C].
  Tensor unpool(const Tensor& dpooled, int64_t B, int64_t T, int64_t C) const {
    const Device device = dpooled.device();
    if (layout_ != Layout::TimmBeit)
      return ops::concat({dpooled.reshape({B, 1, C}), Tensor::zeros({B, T - 1, C}, DType::F32, device)}, 1);
    const Tensor dpatches = ops::adaptive_avg_pool2d_backward(dpooled.reshape({B, C, 1, 1}), T - 1, 1);
    return ops::concat({Tensor::zeros({B, 1, C}, DType::F32, device),
                        dpatches.reshape({B, C, T - 1}).permute({0, 2, 1}).contiguous()},
                       1);
  }

  Layout layout_;
  Conv2d patch_;
  Tensor cls_token_, positions_;
  bool learned_positions_;
  int64_t heads_;
  double eps_;  // every LayerNorm's
  std::vector<std::unique_ptr<TransformerLayer>> layers_;
  LayerNorm final_norm_;
  Linear head_;
  Saved<Shape> patch_grid_;  // the patch convolution's output shape [B, C, h, w]
};

// The flags both layouts share, checked: patch, dim, depth, heads, mlp (ViT-B/16's by default).
struct Flags {
  int64_t patch, dim, depth, heads, mlp;
};
Flags read_flags(const ModelSpec& s) {
  const Flags f{s.flag_int("patch", 16), s.flag_int("dim", 768), s.flag_int("depth", 12),
                s.flag_int("heads", 12), 0};
  const int64_t mlp = s.flag_int("mlp", 4 * f.dim);
  SC_CHECK(f.patch > 0 && f.dim > 0 && f.depth >= 0 && f.heads > 0 && mlp > 0, s.arch,
           ": the flags patch, dim, heads and mlp must be positive and depth not negative");
  SC_CHECK(f.dim % f.heads == 0, s.arch, ": dim ", f.dim, " is not a multiple of heads ", f.heads);
  SC_CHECK(s.height % f.patch == 0 && s.width % f.patch == 0, s.arch, ": the input ", s.height, "x", s.width,
           " is not a whole number of ", f.patch, "x", f.patch, " patches");
  return {f.patch, f.dim, f.depth, f.heads, mlp};
}
}  // namespace

std::unique_ptr<Module> build_vit(const ModelSpec& s) {
  const Flags f = read_flags(s);
  const LayerConfig c{f.dim, f.heads, f.mlp, 1e-12, false};
  return std::make_unique<VisionTransformer>(Layout::HuggingFaceVit, s, f.patch, f.depth, c, true);
}

std::unique_ptr<Module> build_timm_vit(const ModelSpec& s) {
  const Flags f = read_flags(s);
  const int64_t layer_scale = s.flag_int("layer_scale", 0);
  SC_CHECK(layer_scale == 0 || layer_scale == 1, "timm_vit: the flag layer_scale must be 0 or 1");
  const LayerConfig c{f.dim, f.heads, f.mlp, 1e-6, layer_scale == 1};
  return std::make_unique<VisionTransformer>(Layout::TimmVit, s, f.patch, f.depth, c, true);
}

std::unique_ptr<Module> build_beit(const ModelSpec& s) {
  const Flags f = read_flags(s);
  const int64_t abs_pos = s.flag_int("abs_pos", 0), layer_scale = s.flag_int("layer_scale", 1);
  SC_CHECK((abs_pos == 0 || abs_pos == 1) && (layer_scale == 0 || layer_scale == 1),
           "beit: the flags abs_pos and layer_scale must be 0 or 1");
  const LayerConfig c{f.dim, f.heads, f.mlp, 1e-6, layer_scale == 1, s.height / f.patch, s.width / f.patch};
  return std::make_unique<VisionTransformer>(Layout::TimmBeit, s, f.patch, f.depth, c, abs_pos == 1);
}

Tensor mean_of_patch_tokens(const Tensor& tokens) {
  const int64_t B = tokens.size(0), T = tokens.size(1), C = tokens.size(2);
  const Tensor patches = tokens.slice(1, 1, T).permute({0, 2, 1}).contiguous().reshape({B, C, T - 1, 1});
  return ops::adaptive_avg_pool2d(patches, 1, 1).reshape({B, C});
}

bool is_vision_transformer(const Module& net) {
  return dynamic_cast<const VisionTransformer*>(&net) != nullptr;
}

bool describe_transformer(const Module& net, TransformerView& view) {
  const auto* vt = dynamic_cast<const VisionTransformer*>(&net);
  if (vt == nullptr) return false;
  view = vt->describe();
  return true;
}

}  // namespace sc
