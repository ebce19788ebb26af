#include "nn/module.h"

#include "engine/plan.h"
#include "kernels/elementwise.h"

namespace sc {

namespace {
thread_local bool g_recording = false;
thread_local bool g_training = false;
thread_local ParameterGradients* g_gradients = nullptr;
}  // namespace

bool training_mode() {
  return g_training;
}
TrainingMode::TrainingMode() : before_(g_training) {
  g_training = true;
}
TrainingMode::~TrainingMode() {
  g_training = before_;
}

void ParameterGradients::accumulate(const Tensor& param, const Tensor& g) {
  SC_CHECK(g.shape() == param.shape(), "parameter gradient ", g.describe(), " does not match its parameter ",
           param.describe());
  auto [it, fresh] = grads_.try_emplace(&param, g);
  if (!fresh) it->second = ops::add(it->second, g);
}
const Tensor* ParameterGradients::find(const Tensor& param) const {
  const auto it = grads_.find(&param);
  return it == grads_.end() ? nullptr : &it->second;
}

ParameterGradients* parameter_gradients() {
  return g_gradients;
}
AccumulateParameterGradients::AccumulateParameterGradients(ParameterGradients& sink) : before_(g_gradients) {
  g_gradients = &sink;
}
AccumulateParameterGradients::~AccumulateParameterGradients() {
  g_gradients = before_;
}

bool recording_for_backward() {
  return g_recording;
}
RecordForBackward::RecordForBackward() : before_(g_recording) {
  g_recording = true;
}
RecordForBackward::~RecordForBackward() {
  g_recording = before_;
}

Tensor Module::backward(const Tensor&) {
  SC_FAIL(name(), " has no backward pass");
}

Interval Module::bounds(const Interval&) {
  SC_FAIL(name(), " has no interval bounds");
}

Interval Module::bounds_backward(const Interval&) {
  SC_FAIL(name(),
          " has no backward through its interval bounds (IBP training takes convolutions, linear "
          "layers, BatchNorm, ReLU, pooling, flatten, the normalization and the zoo's residual blocks)");
}

std::string join_key(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

NamedTensors Module::named_tensors() {
  NamedTensors out;
  collect("", out);
  return out;
}

void Module::to(Device device) {
  for (auto& [key, t] : named_tensors())
    if (t->defined()) *t = t->to(device);
}

Device Module::device() {
  for (auto& [key, t] : named_tensors())
    if (t->defined()) return t->device();
  return Device::cpu();
}

int64_t Module::parameter_count() {
  int64_t n = 0;
  for (auto& [key, t] : named_tensors())
    if (t->defined()) n += t->numel();
  return n;
}

Sequential& Sequential::add(std::string name, std::unique_ptr<Module> m) {
  if (name.empty()) name = std::to_string(children_.size());
  children_.emplace_back(std::move(name), std::move(m));
  return *this;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (auto& [name, m] : children_) h = m->forward(h);
  return h;
}

Tensor Sequential::backward(const Tensor& dy) {
  Tensor g = dy;
  for (auto it = children_.rbegin(); it != children_.rend(); ++it) g = it->second->backward(g);
  return g;
}

Interval Sequential::bounds(const Interval& x) {
  Interval b = x;
  for (auto& [name, m] : children_) b = m->bounds(b);
  return b;
}

Interval Sequential::bounds_backward(const Interval& dy) {
  Interval g = dy;
  for (auto it = children_.rbegin(); it != children_.rend(); ++it) g = it->second->bounds_backward(g);
  return g;
}

void Sequential::collect(const std::string& prefix, NamedTensors& out) {
  for (auto& [name, m] : children_) m->collect(join_key(prefix, name), out);
}

int Module::lower(PlanBuilder& b, int) const { b.unsupported(name()); }

int Sequential::lower(PlanBuilder& b, int x) const {
  for (const auto& [child_name, child] : children_) x = child->lower(b, x);
  return x;
}

}  // namespace sc
