// Modules: layers with named tensors (parameters and buffers, by their PyTorch key names), a forward pass and
// the input gradient of that pass. Containers name their children like PyTorch does
// ("layer1.0.conv1.weight"), so a state dict converted from a checkpoint loads by its own keys.
//
// Backward (for attacks) is explicit per module, llm.c style: while a RecordForBackward guard lives on the
// thread, forward keeps what its backward needs (an input's shape, a ReLU's output); backward(dy) then
// returns dx = ∂(Σ dy · forward(x))/∂x for the x of the last recorded forward. While an
// AccumulateParameterGradients guard lives, backward also adds each parameter's gradient into the caller's
// ParameterGradients (training). The network is evaluated as at inference (BatchNorm with its running
// statistics) unless a TrainingMode guard lives: then BatchNorm normalizes with the batch's statistics and
// updates its running ones, as PyTorch's module.train().
#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/interval.h"
#include "nn/tensor.h"

namespace sc {

class PlanBuilder;  // engine/plan.h

// (key, tensor) pairs. An empty key marks a tensor that moves with the module between devices but is not part
// of its state dict (the constants of Normalize).
using NamedTensors = std::vector<std::pair<std::string, Tensor*>>;

// Whether forward passes on this thread keep what backward needs.
bool recording_for_backward();

// Records forward passes for backward while it lives (on this thread); nests.
class RecordForBackward {
 public:
  RecordForBackward();
  ~RecordForBackward();
  RecordForBackward(const RecordForBackward&) = delete;
  RecordForBackward& operator=(const RecordForBackward&) = delete;

 private:
  bool before_;
};

// Whether forward passes on this thread train (BatchNorm on batch statistics, above).
bool training_mode();

// Forward passes on this thread train while it lives; nests.
class TrainingMode {
 public:
  TrainingMode();
  ~TrainingMode();
  TrainingMode(const TrainingMode&) = delete;
  TrainingMode& operator=(const TrainingMode&) = delete;

 private:
  bool before_;
};

// Parameter gradients, keyed by the parameter tensor (a module's member, whose address is stable): what
// backward passes add while an AccumulateParameterGradients guard names this object. The caller decides when
// they start from zero (clear) and what reads them (an optimizer).
class ParameterGradients {
 public:
  // grad[param] += g (the first gradient of a parameter is stored as it is).
  void accumulate(const Tensor& param, const Tensor& g);
  // The gradient of `param`, or null when no backward pass gave it one.
  const Tensor* find(const Tensor& param) const;
  void clear() { grads_.clear(); }
  size_t size() const { return grads_.size(); }

 private:
  std::map<const Tensor*, Tensor> grads_;
};

// The thread's current gradient sink, or null (backward then computes no parameter gradients).
ParameterGradients* parameter_gradients();

// Backward passes on this thread add parameter gradients into `sink` while it lives; nests.
class AccumulateParameterGradients {
 public:
  explicit AccumulateParameterGradients(ParameterGradients& sink);
  ~AccumulateParameterGradients();
  AccumulateParameterGradients(const AccumulateParameterGradients&) = delete;
  AccumulateParameterGradients& operator=(const AccumulateParameterGradients&) = delete;

 private:
  ParameterGradients* before_;
};

class Module {
 public:
  virtual ~Module() = default;
  virtual Tensor forward(const Tensor& x) = 0;
  // The input gradient of the last recorded forward (above). The default says this module has none.
  virtual Tensor backward(const Tensor& dy);
  // Elementwise bounds on forward(x) for every x in the box (interval bound propagation, nn/interval.h). The
  // default says this module has none.
  virtual Interval bounds(const Interval& x);
  // Backward through the last recorded bounds() (IBP training): the gradients with respect to its input box
  // of Σ dy.lower·lower + dy.upper·upper, adding parameter gradients as backward does. The default says this
  // module has none.
  virtual Interval bounds_backward(const Interval& dy);
  // Appends this module's tensors, named with `prefix`.
  virtual void collect(const std::string& prefix, NamedTensors& out) { (void)prefix, (void)out; }
  virtual std::string name() const = 0;
  // Describes forward(x) to the fast-path planner (engine/plan.h) and returns its value; x and the result are
  // the planner's symbolic values. The default says this module has no fast path.
  virtual int lower(PlanBuilder& b, int x) const;

  NamedTensors named_tensors();
  // Moves every tensor to `device`.
  void to(Device device);
  Device device();
  int64_t parameter_count();
};

// Runs children in order; child i is named by its given name (or its index).
class Sequential : public Module {
 public:
  Sequential& add(std::string name, std::unique_ptr<Module> m);
  template <typename M, typename... Args>
  Sequential& emplace(std::string name, Args&&... args) {
    return add(std::move(name), std::make_unique<M>(std::forward<Args>(args)...));
  }
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  Interval bounds(const Interval& x) override;
  Interval bounds_backward(const Interval& dy) override;
  void collect(const std::string& prefix, NamedTensors& out) override;
  std::string name() const override { return "Sequential"; }
  int lower(PlanBuilder& b, int x) const override;
  size_t size() const { return children_.size(); }

 private:
  std::vector<std::pair<std::string, std::unique_ptr<Module>>> children_;
};

// A value a module's backward needs from its last recorded forward: keep() stores it only while recording;
// get() fails, naming the module, when no forward was recorded.
template <typename T>
class Saved {
 public:
  void keep(const T& v) {
    if (!recording_for_backward()) return;
    value_ = v;
    kept_ = true;
  }
  const T& get(const Module& m) const {
    SC_CHECK(kept_, m.name(), ": backward without a recorded forward (run forward under RecordForBackward)");
    return value_;
  }

 private:
  T value_{};
  bool kept_ = false;
};

// "a" + "b" → "a.b"; "" + "b" → "b".
std::string join_key(const std::string& prefix, const std::string& name);

}  // namespace sc
