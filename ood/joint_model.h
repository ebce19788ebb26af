// ProoD's joint model (Meinke et al. 2022), the classifier that DISTRO (Franco et al. 2023) smooths: a
// classifier f with K classes and a binary detector d of in-distribution inputs, combined as
//   p(y|x) = σ(d(x))·softmax(f(x))_y + (1 − σ(d(x)))/K.
// Where the detector says "out", every class gets 1/K, so the confidence max_y p(y|x) is low. The joint
// model's outputs are log p(y|x): their softmax is p itself, so the max softmax score is the joint
// confidence and every OOD path (scores, smoothing, attacks, IBP) runs on it unchanged.
//
// The detector is a model with one output d, or two (d = out₁ − out₀: class 1 = in-distribution, as
// `smoothcuda train` makes it from an inout: dataset, where the softmax's p₁ is σ(d)).
//
// Bounds: over a box of images, only the detector's logit bound ū is used (as ProoD): every log p(y|x) lies
// in [log((1 − σ(ū))/K), log(σ(ū) + (1 − σ(ū))/K)], and from that box the max softmax bound of
// ood/score_bounds.h is exactly ProoD's guaranteed confidence σ(ū) + (1 − σ(ū))/K.
#pragma once
#include <memory>

#include "nn/models/registry.h"

namespace sc::ood {

class JointNet : public Module {
 public:
  JointNet(std::unique_ptr<Classifier> classifier, std::unique_ptr<Classifier> detector);
  Tensor forward(const Tensor& x) override;  // images [N, C, H, W] in [0, 1] → log p(y|x) [N, K]
  // Through the combination (on the host, in double: [N, K] values), then both networks; their image
  // gradients add.
  Tensor backward(const Tensor& dy) override;
  Interval bounds(const Interval& x) override;
  // ProoD's key names: base_model.*, detector.*.
  void collect(const std::string& prefix, NamedTensors& out) override;
  std::string name() const override { return "JointNet"; }
  Classifier& classifier() { return *classifier_; }
  Classifier& detector() { return *detector_; }

 private:
  std::unique_ptr<Classifier> classifier_, detector_;
  struct Combination {  // of the last recorded forward, row-major [N, K] / [N]
    std::vector<double> log_softmax, detector_logit, output;
  };
  Saved<Combination> saved_;
};

// The Classifier (no normalization of its own: each network keeps its own) whose net is the joint model of
// `classifier` and `detector`; they must take the same input shape and sit on the same device. Its arch reads
// "joint(CLASSIFIER, DETECTOR)".
std::unique_ptr<Classifier> make_joint_classifier(std::unique_ptr<Classifier> classifier,
                                                  std::unique_ptr<Classifier> detector);

}  // namespace sc::ood
