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

}  // namespace sc
