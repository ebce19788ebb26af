// Residual networks of the reference systems, with their own state-dict key names:
//   cifar_resnet20/110   Cohen et al. (bearpaw's CIFAR ResNet): 1×1 conv + BN shortcut where shapes change
//   aka_resnet20…1202    akamaster's CIFAR ResNet: parameter-free "option A" shortcut (subsample + zero channels)
//   resnet18, resnet50   torchvision's ImageNet ResNets (stride in the 3×3 convolution of the bottleneck)
//   wrn28_10, wrn40_2    the WideResNet of the OOD literature (pre-activation blocks, convShortcut)
#pragma once
#include "nn/models/registry.h"

namespace sc {

std::unique_ptr<Module> build_cifar_resnet(const ModelSpec& spec, int depth);
std::unique_ptr<Module> build_aka_resnet(const ModelSpec& spec, int depth);
std::unique_ptr<Module> build_torchvision_resnet(const ModelSpec& spec, int depth);
std::unique_ptr<Module> build_wide_resnet(const ModelSpec& spec, int depth, int widen);

}  // namespace sc
