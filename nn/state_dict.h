// Loading a module's tensors from (key, tensor) pairs, strictly: every key the module names must be present
// with the same shape, and every given key must be used. Errors name the key and both shapes.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "nn/module.h"

namespace sc {

using StateDict = std::vector<std::pair<std::string, Tensor>>;

// Float tensors of any float dtype are converted to float32; integer buffers keep their type.
// `source` names the file in error messages.
void load_state_dict(Module& module, const StateDict& state, const std::string& source);
StateDict state_dict(Module& module);  // the module's persistent tensors, by key (CPU copies)

// 16 hex digits of a 64-bit FNV-1a hash of the state dict's keys, shapes and bytes: tells two models' weights
// apart (a resumed run checks it is given the models it started with); not a cryptographic digest.
std::string state_fingerprint(Module& module);

}  // namespace sc
