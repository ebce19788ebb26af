// Image-to-image denoisers of the reference systems, built by the same registry as the classifiers: a model
// whose "classes" are 0 and whose forward maps noisy images in [0,1] to clean estimates of the same shape.
//   cifar_dncnn, cifar_dncnn_wide, imagenet_dncnn, dncnn   Salman et al.'s DnCNN (denoised smoothing, 2020)
//   memnet, imagenet_memnet                                Salman et al.'s MemNet (Tai et al. 2017)
//   conv_autoencoder                                       a small convolutional autoencoder (the OOD lab)
#pragma once
#include <string>

#include "nn/models/registry.h"

namespace sc {

// True for the architectures above (their specs have num_classes 0 and no normalization).
bool is_denoiser_arch(const std::string& arch);
bool is_memnet_arch(const std::string& arch);  // memnet, imagenet_memnet

// DnCNN (Zhang et al. 2017, as Salman et al. modify it): conv 3×3 C → w with bias, ReLU, then depth − 2 ×
// (conv 3×3 w → w without bias, BatchNorm eps 1e-4, ReLU), then conv 3×3 w → C without bias, all padded by 1;
// the network predicts the noise and returns x − prediction. Keys "dncnn.<index>.*" (PyTorch's Sequential),
// Salman et al.'s own. Flags: depth (default 17), width (default `default_width`: 64, cifar_dncnn_wide 128).
std::unique_ptr<Module> build_dncnn(const ModelSpec& spec, int64_t default_width);

// MemNet (Tai et al. 2017) as Salman et al. build it: x + reconstructor(memory), where feature_extractor
// (BatchNorm → ReLU → conv 3×3 C → w) feeds memory_blocks blocks; each runs residual_blocks residual blocks
// (x + two BatchNorm → ReLU → conv 3×3 units) in a chain, and its gate (BatchNorm → ReLU → conv 1×1) maps
// the chain's outputs and every earlier block's output (and the features) to its own. Convolutions have no
// bias; BatchNorm is PyTorch's default (eps 1e-5, momentum 0.1). Keys are theirs ("feature_extractor.bn.*",
// "dense_memory.<b>.recursive_unit.<r>.relu_conv1.conv.weight", "dense_memory.<b>.gate_unit.*",
// "reconstructor.*"). Flags: width (64), memory_blocks (3), residual_blocks (6), their configuration.
std::unique_ptr<Module> build_memnet(const ModelSpec& spec);

// A small convolutional autoencoder (the OOD lab's reconstruction score; trained with noise, a denoising
// autoencoder): encoder conv 3×3 C → w, ReLU, conv 3×3 stride 2 w → 2w, ReLU, conv 3×3 stride 2 2w → 2w, ReLU
// (a quarter of the side); decoder nearest upsampling ×2, conv 3×3 2w → w, ReLU, upsampling ×2, conv 3×3 w →
// C. Convolutions with bias, padded by 1; keys "encoder.<i>.*", "decoder.<i>.*". Flag: width (32). Sides must
// be multiples of 4.
std::unique_ptr<Module> build_conv_autoencoder(const ModelSpec& spec);

// The starting point of a denoiser's training: initialize_for_training's (nn/models/random_init.h); then,
// as Salman et al. start their DnCNN, zero biases and a zero last convolution, so that the untrained DnCNN is
// the identity, x − 0 (their MemNet and the autoencoder keep the plain initialization).
void initialize_denoiser_for_training(Classifier& denoiser, uint64_t seed);

// Both denoisers have interval bounds (nn/interval.h) but no backward through them: IBP through a denoiser
// bounds a trained one (ood --ibp-eps), it does not train one.

// Denoised smoothing's base classifier as one classifier: classifier(denoiser(x)), with the input gradient
// through both (attacks through the denoiser, white-box) and interval bounds through both. Borrows both
// models, which must outlive it and sit on one device (its tensors are theirs, named "denoiser.*" and
// "classifier.*"); its spec is the classifier's (the classifier normalizes its own input) named
// "DENOISER+CLASSIFIER". The denoiser runs as NetworkDenoiser runs it, on the images' own size.
std::unique_ptr<Classifier> denoised_network(Classifier& denoiser, Classifier& classifier);

}  // namespace sc
