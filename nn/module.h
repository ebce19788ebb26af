// Modules: layers with named tensors (parameters and buffers, by their PyTorch key names) and a forward pass.
// Containers name their children like PyTorch does ("layer1.0.conv1.weight"), so a state dict converted from a
// checkpoint loads by its own keys.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/tensor.h"

namespace sc {

class PlanBuilder;  // engine/plan.h

// (key, tensor) pairs. An empty key marks a tensor that moves with the module between devices but is not part
// of its state dict (the constants of Normalize).
using NamedTensors = std::vector<std::pair<std::string, Tensor*>>;

class Module {
 public:
  virtual ~Module() = default;
  virtual Tensor forward(const Tensor& x) = 0;
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
  void collect(const std::string& prefix, NamedTensors& out) override;
  std::string name() const override { return "Sequential"; }
  int lower(PlanBuilder& b, int x) const override;
  size_t size() const { return children_.size(); }

 private:
  std::vector<std::pair<std::string, std::unique_ptr<Module>>> children_;
};

// "a" + "b" → "a.b"; "" + "b" → "b".
std::string join_key(const std::string& prefix, const std::string& name);

}  // namespace sc
