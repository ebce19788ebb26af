// The layers the classifiers are built from, each a thin Module over one op of kernels/.
// Tensors are named as PyTorch names them (weight, bias, running_mean, running_var).
#pragma once
#include <functional>

#include "kernels/conv2d.h"
#include "kernels/pool2d.h"
#include "nn/module.h"

namespace sc {

class Conv2d : public Module {
 public:
  Conv2d(int64_t in, int64_t out, int64_t kernel, Conv2dParams p = {}, bool bias = true);
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  Interval bounds(const Interval& x) override;
  Interval bounds_backward(const Interval& dy) override;
  void collect(const std::string& prefix, NamedTensors& out) override;
  std::string name() const override { return "Conv2d"; }
  int lower(PlanBuilder& b, int x) const override;
  Tensor weight, bias;
  Conv2dParams params;

 private:
  Saved<Tensor> input_;  // for the weight gradient (and the input's size)
  Saved<Interval> box_;  // the last recorded bounds() input
};

// At inference, normalizes with the running statistics; in training mode (module.h) with the batch's, and
// moves the running ones towards them: running ← (1 − momentum)·running + momentum·batch, the variance
// unbiased there (n/(n − 1)), as PyTorch.
class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(int64_t channels, double eps = 1e-5);
  Tensor forward(const Tensor& x) override;
  // After an inference forward: dy · γ/√(running var + eps), the statistics constants (no parameter
  // gradients). After a training forward: through the batch statistics (ops::batch_norm_backward).
  Tensor backward(const Tensor& dy) override;
  // An affine map per channel with the running statistics, in training mode too: bounds hold for the network
  // as it is evaluated, and IBP training then differentiates them with respect to γ and β only.
  Interval bounds(const Interval& x) override;
  Interval bounds_backward(const Interval& dy) override;
  void collect(const std::string& prefix, NamedTensors& out) override;
  std::string name() const override { return "BatchNorm2d"; }
  int lower(PlanBuilder& b, int x) const override;
  Tensor weight, bias, running_mean, running_var;
  Tensor num_batches_tracked;  // PyTorch's count of training batches, kept in state dicts
  double eps;
  double momentum = 0.1;

 private:
  Saved<Tensor> input_, batch_stats_;  // batch_stats_ undefined after an inference forward
  Saved<Interval> box_;                // the last recorded bounds() input
  Tensor own_count_;                   // the counter storage this layer made, incremented in place
};

class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, bool bias = true);
  Tensor forward(const Tensor& x) override;  // flattens x to [N, in] first
  Tensor backward(const Tensor& dy) override;
  Interval bounds(const Interval& x) override;
  Interval bounds_backward(const Interval& dy) override;
  void collect(const std::string& prefix, NamedTensors& out) override;
  std::string name() const override { return "Linear"; }
  int lower(PlanBuilder& b, int x) const override;
  Tensor weight, bias;

 private:
  Saved<Shape> input_shape_;
  Saved<Tensor> flat_input_;  // [N, in], for the weight gradient
  Saved<Interval> box_;       // the last recorded bounds() input
};

// ProoD's last layer for binary detectors (LinearI_Neg): y = −exp(W)·x + b. Every effective weight is
// negative, so that with non-negative features the logit only falls as they grow (ProoD's argument for a
// detector that stays low far from the data). Keys: weight (W itself) and bias. It runs as a Linear whose weight
// is −exp(W), made from W (on the host, like abs_values) at each forward and bounds pass; the parameter
// gradient of W is that Linear's times −exp(W).
class NegExpLinear : public Module {
 public:
  NegExpLinear(int64_t in, int64_t out);
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  Interval bounds(const Interval& x) override;
  Interval bounds_backward(const Interval& dy) override;
  void collect(const std::string& prefix, NamedTensors& out) override;
  std::string name() const override { return "NegExpLinear"; }
  Tensor weight, bias;

 private:
  Linear effective_;
  void refresh();
  // Runs `pass` (a backward of effective_) and passes its parameter gradients on to W and b.
  template <typename T>
  T chained(const std::function<T()>& pass);
};

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  Interval bounds(const Interval& x) override;  // monotone
  Interval bounds_backward(const Interval& dy) override;
  std::string name() const override { return "ReLU"; }
  int lower(PlanBuilder& b, int x) const override;

 private:
  Saved<Tensor> output_;
  Saved<Interval> box_;  // the last recorded bounds() input
};

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(Pool2dParams p) : params(p) {}
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  Interval bounds(const Interval& x) override;  // monotone
  Interval bounds_backward(const Interval& dy) override;
  std::string name() const override { return "MaxPool2d"; }
  int lower(PlanBuilder& b, int x) const override;
  Pool2dParams params;

 private:
  Saved<Tensor> input_;
  Saved<Interval> box_;  // the last recorded bounds() input
};

// Nearest-neighbour upsampling by 2 (F.interpolate(scale_factor=2, mode="nearest")): each value fills a 2×2
// block. Backward sums each block's gradient (4 × its 2×2 average); no saved state.
class Upsample2x : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  Interval bounds(const Interval& x) override;  // monotone
  Interval bounds_backward(const Interval& dy) override;
  std::string name() const override { return "Upsample2x"; }
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(Pool2dParams p) : params(p) {}
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  Interval bounds(const Interval& x) override;  // monotone
  Interval bounds_backward(const Interval& dy) override;
  std::string name() const override { return "AvgPool2d"; }
  Pool2dParams params;

 private:
  Saved<Shape> input_shape_;
  Saved<Interval> box_;  // the last recorded bounds() input
};

class GlobalAvgPool : public Module {  // AdaptiveAvgPool2d((1, 1)) followed by flatten
 public:
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  Interval bounds(const Interval& x) override;  // monotone
  Interval bounds_backward(const Interval& dy) override;
  std::string name() const override { return "GlobalAvgPool"; }
  int lower(PlanBuilder& b, int x) const override;

 private:
  Saved<Shape> input_shape_;
  Saved<Interval> box_;  // the last recorded bounds() input
};

class Flatten : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  Interval bounds(const Interval& x) override;  // monotone
  Interval bounds_backward(const Interval& dy) override;
  std::string name() const override { return "Flatten"; }
  int lower(PlanBuilder& b, int x) const override;

 private:
  Saved<Shape> input_shape_;
  Saved<Interval> box_;  // the last recorded bounds() input
};

// (x − mean[c]) / std[c]: the classifier's first layer. Holds its constants but names none (like Cohen's
// NormalizeLayer, it contributes no keys to a state dict).
class Normalize : public Module {
 public:
  Normalize(std::vector<float> mean, std::vector<float> std);
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;  // dy / std[c]
  Interval bounds(const Interval& x) override;  // monotone (std > 0)
  Interval bounds_backward(const Interval& dy) override;
  void collect(const std::string& prefix, NamedTensors& out) override;
  std::string name() const override { return "Normalize"; }
  Tensor mean, std;
};

}  // namespace sc
