// The Vision Transformer (Dosovitskiy et al.) as Hugging Face's ViTForImageClassification lays it out, with
// its key names, so that its checkpoints (such as the ViT-B/16 that diffusion denoised smoothing classifies
// CIFAR-10 with, at 224×224) convert as they are. See vit.cpp for the layout.
#pragma once
#include "nn/models/registry.h"

namespace sc {

// Flags: patch (16), dim (768), depth (12), heads (12), mlp (3072): ViT-B/16 by default.
std::unique_ptr<Module> build_vit(const ModelSpec& spec);

}  // namespace sc
