// A randomized classifier: x ↦ classifier(x + δ), with a fresh δ ~ N(0, σ²I) at every forward pass (a model
// trained with Gaussian noise augmentation, run with its noise at test time: the randomized defenses that
// AutoAttack's "rand" version attacks with expectation over transformation, attacks/loss_gradient.h).
#pragma once
#include <cstdint>

#include "nn/models/registry.h"

namespace sc {

// Borrows `classifier`, which must outlive it (its tensors are the classifier's, named "classifier.*"). Its
// spec is the classifier's (the classifier normalizes its own input) named "CLASSIFIER+noise". The input
// gradient of a recorded forward is the classifier's at x + δ of that pass (∂(x + δ)/∂x = I). The noise of
// the k-th forward pass is noise(seed, 0, kRandomizedModel, k, element) over the whole batch (smoothing/
// noise.h): the same on the CPU and CUDA, and the same sequence for the same sequence of calls. It has no
// interval bounds: no box holds a Gaussian perturbation.
std::unique_ptr<Classifier> noisy_network(Classifier& classifier, double sigma, uint64_t seed);

}  // namespace sc
