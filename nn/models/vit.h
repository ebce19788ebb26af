// The Vision Transformer (Dosovitskiy et al.) as Hugging Face's ViTForImageClassification lays it out, with
// its key names, so that its checkpoints (such as the ViT-B/16 that diffusion denoised smoothing classifies
// CIFAR-10 with, at 224×224) convert as they are. See vit.cpp for the layout.
#pragma once
#include "nn/models/registry.h"

namespace sc {

// Flags: patch (16), dim (768), depth (12), heads (12), mlp (4·dim): ViT-B/16 by default.
std::unique_ptr<Module> build_vit(const ModelSpec& spec);
// Flags: patch (16), dim (768), depth (12), heads (12), mlp (4·dim), abs_pos (0: relative position biases
// only), layer_scale (1). beit_large_patch16_512: --patch 16 --dim 1024 --depth 24 --heads 16 at 512×512.
std::unique_ptr<Module> build_beit(const ModelSpec& spec);

}  // namespace sc
