// Vision transformers with their checkpoints' key names, so that those convert as they are (vit.cpp has the
// layouts): the ViT (Dosovitskiy et al.) as Hugging Face's ViTForImageClassification lays it out (diffusion
// denoised smoothing classifies CIFAR-10 with a ViT-B/16 at 224×224), BEiT (Bao et al.) as timm's Beit does
// (its ImageNet classifier is beit_large_patch16_512) and the ViT as timm's VisionTransformer does.
#pragma once
#include "nn/models/registry.h"

namespace sc {

// Flags: patch (16), dim (768), depth (12), heads (12), mlp (4·dim): ViT-B/16 by default.
std::unique_ptr<Module> build_vit(const ModelSpec& spec);
// Flags: patch (16), dim (768), depth (12), heads (12), mlp (4·dim), abs_pos (0: relative position biases
// only), layer_scale (1). beit_large_patch16_512: --patch 16 --dim 1024 --depth 24 --heads 16 at 512×512.
std::unique_ptr<Module> build_beit(const ModelSpec& spec);
// Flags: patch, dim, depth, heads, mlp as vit's; layer_scale (0). vit_base_patch16_224: the defaults.
std::unique_ptr<Module> build_timm_vit(const ModelSpec& spec);

// A vision transformer's tensors by role, shared with the model, for the fast engine
// (engine/fast_transformer.h). Linear weights are [out, in] as in the model.
struct TransformerLayerView {
  Tensor norm1_weight, norm1_bias;
  Tensor qkv_weight, qkv_bias;  // [3C, C], [3C]: the q, k, v rows in turn, heads side by side in each
  Tensor proj_weight, proj_bias, norm2_weight, norm2_bias, fc1_weight, fc1_bias, fc2_weight, fc2_bias;
  Tensor gamma1, gamma2;  // layer scales, undefined without
  Tensor relative_table;  // BEiT's relative position bias table, undefined without
};
struct TransformerView {
  int64_t patch = 0, heads = 0;
  double eps = 0;
  bool class_token_pooled = true;   // else the patch tokens' mean (BEiT)
  Tensor patch_weight, patch_bias;  // the patch convolution [C, channels, patch, patch], [C]
  Tensor cls_token, positions;      // [C], [T, C] (zeros where the layout has no absolute positions)
  std::vector<TransformerLayerView> layers;
  Tensor norm_weight, norm_bias, head_weight, head_bias;
};
// Whether `net` is a network that build_vit, build_beit or build_timm_vit made.
bool is_vision_transformer(const Module& net);
// The view of such a network; false for any other module.
bool describe_transformer(const Module& net, TransformerView& view);
// BEiT's pooling: the mean of the patch tokens (all but the class token) of float32 tokens [B, T, C] → [B,
// C].
Tensor mean_of_patch_tokens(const Tensor& tokens);

}  // namespace sc
