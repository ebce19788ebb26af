#include "nn/state_dict.h"

#include <cstdio>
#include <map>
#include <set>

namespace sc {

void load_state_dict(Module& module, const StateDict& state, const std::string& source) {
  std::map<std::string, const Tensor*> given;
  for (const auto& [k, t] : state) given[k] = &t;
  std::set<std::string> used;
  for (auto& [key, target] : module.named_tensors()) {
    if (key.empty()) continue;
    auto it = given.find(key);
    // BatchNorm's counter is absent from checkpoints of PyTorch < 0.4.1 and unused in inference.
    if (it == given.end() && key.size() >= 19 && key.compare(key.size() - 19, 19, "num_batches_tracked") == 0)
      continue;
    SC_CHECK(it != given.end(), source, ": missing key '", key, "' (the model expects shape ",
             shape_str(target->shape()), ")");
    const Tensor& src = *it->second;
    SC_CHECK(src.shape() == target->shape(), source, ": key '", key, "' has shape ", shape_str(src.shape()),
             " but the model expects ", shape_str(target->shape()));
    const bool float_target = target->dtype() == DType::F32;
    const bool float_src = src.dtype() == DType::F32 || src.dtype() == DType::F16 || src.dtype() == DType::BF16;
    SC_CHECK(float_target == float_src, source, ": key '", key, "' holds ", dtype_name(src.dtype()),
             " but the model expects ", dtype_name(target->dtype()));
    *target = src.astype(target->dtype()).to(target->device()).clone();
    used.insert(key);
  }
  std::vector<std::string> unexpected;
  for (const auto& [k, t] : state)
    if (!used.count(k)) unexpected.push_back(k);
  if (!unexpected.empty()) {
    std::string list;
    for (size_t i = 0; i < unexpected.size() && i < 5; ++i) list += (i ? ", '" : "'") + unexpected[i] + "'";
    SC_FAIL(source, ": ", unexpected.size(), " unexpected key(s) the model does not have: ", list,
            unexpected.size() > 5 ? ", ..." : "");
  }
}

StateDict state_dict(Module& module) {
  StateDict out;
  for (auto& [key, t] : module.named_tensors())
    if (!key.empty()) out.emplace_back(key, t->cpu());
  return out;
}

std::string state_fingerprint(Module& module) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a's offset basis and prime
  const auto mix = [&h](const void* data, size_t bytes) {
    for (size_t i = 0; i < bytes; ++i)
      h = (h ^ static_cast<const unsigned char*>(data)[i]) * 1099511628211ull;
  };
  for (const auto& [key, t] : state_dict(module)) {
    mix(key.data(), key.size() + 1);  // with the terminator: "ab"+"c" and "a"+"bc" differ
    for (int64_t d : t.shape()) mix(&d, sizeof d);
    mix(t.raw_data(), t.nbytes());
  }
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

}  // namespace sc
