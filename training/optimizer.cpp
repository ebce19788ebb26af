#include "training/optimizer.h"

namespace sc::training {

StateEntry find_state_entry(const std::string& name, const std::vector<std::string>& kinds, Module& model,
                            const std::string& optimizer) {
  for (const std::string& kind : kinds) {
    if (name.rfind(kind + ".", 0) != 0) continue;
    const std::string key = name.substr(kind.size() + 1);
    for (auto& [k, tensor] : model.named_tensors())
      if (k == key) return {kind, key, tensor};
    SC_FAIL(optimizer, " state: '", name, "' names no tensor of the model");
  }
  std::string known;
  for (const std::string& kind : kinds) known += (known.empty() ? "" : ", ") + kind + ".KEY";
  SC_FAIL(optimizer, " state: '", name, "' is none of ", known);
}

}  // namespace sc::training
