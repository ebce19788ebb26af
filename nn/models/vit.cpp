// ViT-B/16 and its relatives, pre-norm transformer layers over the tokens of a patch embedding:
//   tokens = [cls, patch conv(x)] + positions                  vit.embeddings.{cls_token,
//   position_embeddings,
//                                                               patch_embeddings.projection}
//   per layer i (vit.encoder.layer.i):
//     z = z + dense(attention(query, key, value of LN(z)))     layernorm_before, attention.attention.{query,
//                                                               key, value}, attention.output.dense
//     z = z + output(GELU(intermediate(LN(z))))                layernorm_after, intermediate.dense,
//     output.dense
//   logits = classifier(LN(z of the class token))              vit.layernorm, classifier
// LayerNorm's eps is 1e-12, Hugging Face's ViTConfig default; GELU the exact (erf) one. The final LayerNorm
// acts on each token alone, so only the class token's is computed. Tokens are rows [B, T, C]: every Linear
// acts on [B·T, C]. No interval bounds and no fast-path plan: the generic engine runs it.
#include "nn/models/vit.h"

#include "kernels/concat.h"
#include "kernels/elementwise.h"
#include "kernels/gelu.h"
#include "kernels/layer_norm.h"
#include "kernels/patch_tokens.h"
#include "kernels/token_attention.h"

namespace sc {

namespace {
constexpr double kLayerNormEps = 1e-12;

class LayerNorm : public Module {
 public:
  explicit LayerNorm(int64_t C) : weight(Tensor::full({C}, 1.0f)), bias(Tensor::zeros({C})) {}
  Tensor forward(const Tensor& x) override {
    input_.keep(x);
    return ops::layer_norm(x, weight, bias, kLayerNormEps);
  }
  Tensor backward(const Tensor& dy) override {
    LayerNormGradients g =
        ops::layer_norm_backward(dy.contiguous(), input_.get(*this), weight, kLayerNormEps);
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
  Saved<Tensor> input_;
};

// One pre-norm transformer layer on tokens [B, T, C].
class VitLayer : public Module {
 public:
  VitLayer(int64_t dim, int64_t heads, int64_t mlp)
      : heads_(heads),
        before_(dim),
        after_(dim),
        query_(dim, dim),
        key_(dim, dim),
        value_(dim, dim),
        attention_out_(dim, dim),
        intermediate_(dim, mlp),
        output_(mlp, dim) {}

  Tensor forward(const Tensor& x) override {
    const int64_t B = x.size(0), T = x.size(1), C = x.size(2);
    const Tensor rows = x.reshape({B * T, C});
    const Tensor a = before_.forward(rows);
    const Tensor qkv =
        ops::concat({query_.forward(a), key_.forward(a), value_.forward(a)}, 1).reshape({B, T, 3 * C});
    qkv_.keep(qkv);
    const Tensor attended = ops::token_attention(qkv, heads_).reshape({B * T, C});
    const Tensor z = ops::add(rows, attention_out_.forward(attended));
    const Tensor pre_gelu = intermediate_.forward(after_.forward(z));
    mlp_input_.keep(pre_gelu);
    const Tensor m = output_.forward(ops::gelu(pre_gelu));
    return ops::add(z, m).reshape({B, T, C});
  }

  Tensor backward(const Tensor& dy) override {
    const Tensor& qkv = qkv_.get(*this);
    const int64_t B = qkv.size(0), T = qkv.size(1), C = qkv.size(2) / 3;
    const Tensor g = dy.contiguous().reshape({B * T, C});
    const Tensor dm = ops::gelu_backward(output_.backward(g), mlp_input_.get(*this));
    const Tensor dz = ops::add(g, after_.backward(intermediate_.backward(dm)));
    const Tensor dattended = attention_out_.backward(dz).reshape({B, T, C});
    const Tensor dqkv = ops::token_attention_backward(dattended, qkv, heads_).reshape({B * T, 3 * C});
    Tensor da = query_.backward(dqkv.slice(1, 0, C).contiguous());
    da = ops::add(da, key_.backward(dqkv.slice(1, C, 2 * C).contiguous()));
    da = ops::add(da, value_.backward(dqkv.slice(1, 2 * C, 3 * C).contiguous()));
    return ops::add(dz, before_.backward(da)).reshape({B, T, C});
  }

  void collect(const std::string& prefix, NamedTensors& out) override {
    query_.collect(join_key(prefix, "attention.attention.query"), out);
    key_.collect(join_key(prefix, "attention.attention.key"), out);
    value_.collect(join_key(prefix, "attention.attention.value"), out);
    attention_out_.collect(join_key(prefix, "attention.output.dense"), out);
    intermediate_.collect(join_key(prefix, "intermediate.dense"), out);
    output_.collect(join_key(prefix, "output.dense"), out);
    before_.collect(join_key(prefix, "layernorm_before"), out);
    after_.collect(join_key(prefix, "layernorm_after"), out);
  }
  std::string name() const override { return "VitLayer"; }

 private:
  int64_t heads_;
  LayerNorm before_, after_;
  Linear query_, key_, value_, attention_out_, intermediate_, output_;
  Saved<Tensor> qkv_, mlp_input_;  // the attention's input and GELU's
};
// The whole network on normalized images [B, channels, H, W] → logits [B, classes].
class VisionTransformer : public Module {
 public:
  VisionTransformer(const ModelSpec& s, int64_t patch, int64_t dim, int64_t depth, int64_t heads, int64_t mlp)
      : patch_(s.channels, dim, patch, Conv2dParams::square(patch, 0)),
        cls_token_(Tensor::zeros({1, 1, dim})),
        positions_(Tensor::zeros({1, (s.height / patch) * (s.width / patch) + 1, dim})),
        final_norm_(dim),
        classifier_(dim, s.num_classes) {
    for (int64_t i = 0; i < depth; ++i) layers_.push_back(std::make_unique<VitLayer>(dim, heads, mlp));
  }

  Tensor forward(const Tensor& x) override {
    const Tensor p = patch_.forward(x);  // [B, C, h, w]
    const int64_t B = p.size(0), C = p.size(1), T = p.size(2) * p.size(3) + 1;
    patch_grid_.keep(p.shape());
    Tensor z =
        ops::patch_tokens(p.reshape({B, C, T - 1}), cls_token_.reshape({C}), positions_.reshape({T, C}));
    for (auto& layer : layers_) z = layer->forward(z);
    return classifier_.forward(final_norm_.forward(z.slice(1, 0, 1).reshape({B, C})));
  }

  Tensor backward(const Tensor& dy) override {
    const Shape& grid = patch_grid_.get(*this);
    const int64_t B = grid[0], C = grid[1], T = grid[2] * grid[3] + 1;
    const Tensor dcls = final_norm_.backward(classifier_.backward(dy)).reshape({B, 1, C});
    Tensor dz = ops::concat({dcls, Tensor::zeros({B, T - 1, C}, DType::F32, dcls.device())}, 1);
    for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) dz = (*it)->backward(dz);
    PatchTokenGradients g = ops::patch_tokens_backward(dz);
    if (ParameterGradients* sink = parameter_gradients()) {
      sink->accumulate(cls_token_, g.dcls.reshape(cls_token_.shape()));
      sink->accumulate(positions_, g.dpos.reshape(positions_.shape()));
    }
    return patch_.backward(g.dpatches.reshape(grid));
  }

  void collect(const std::string& prefix, NamedTensors& out) override {
    out.emplace_back(join_key(prefix, "vit.embeddings.cls_token"), &cls_token_);
    out.emplace_back(join_key(prefix, "vit.embeddings.position_embeddings"), &positions_);
    patch_.collect(join_key(prefix, "vit.embeddings.patch_embeddings.projection"), out);
    for (size_t i = 0; i < layers_.size(); ++i)
      layers_[i]->collect(join_key(prefix, "vit.encoder.layer." + std::to_string(i)), out);
    final_norm_.collect(join_key(prefix, "vit.layernorm"), out);
    classifier_.collect(join_key(prefix, "classifier"), out);
  }
  std::string name() const override { return "VisionTransformer"; }

 private:
  Conv2d patch_;
  Tensor cls_token_, positions_;
  std::vector<std::unique_ptr<VitLayer>> layers_;
  LayerNorm final_norm_;
  Linear classifier_;
  Saved<Shape> patch_grid_;  // the patch convolution's output shape [B, C, h, w]
};
}  // namespace

std::unique_ptr<Module> build_vit(const ModelSpec& s) {
  const int64_t patch = s.flag_int("patch", 16), dim = s.flag_int("dim", 768),
                depth = s.flag_int("depth", 12), heads = s.flag_int("heads", 12),
                mlp = s.flag_int("mlp", 3072);
  SC_CHECK(patch > 0 && dim > 0 && depth >= 0 && heads > 0 && mlp > 0,
           "vit: the flags patch, dim, heads and mlp "
           "must be positive and depth not negative");
  SC_CHECK(dim % heads == 0, "vit: dim ", dim, " is not a multiple of heads ", heads);
  SC_CHECK(s.height % patch == 0 && s.width % patch == 0, "vit: the input ", s.height, "x", s.width,
           " is not a whole number of ", patch, "x", patch, " patches");
  return std::make_unique<VisionTransformer>(s, patch, dim, depth, heads, mlp);
}

}  // namespace sc
