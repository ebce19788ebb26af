// PyTorch checkpoints (torch.save) read without PyTorch: the zip layout (torch ≥ 1.6: ARCHIVE/data.pkl +
// ARCHIVE/data/<key>) and the legacy layout (torch ≤ 1.5: magic, protocol and system-info pickles, the object
// pickle, the storage-key list, then each storage as int64 count + raw bytes). Nothing in the file is executed.
#pragma once
#include <string>
#include <vector>

#include "nn/state_dict.h"
#include "weights_tools/pickle.h"

namespace sc::torchfile {

struct Checkpoint {
  pickle::ValuePtr root;
  std::string format;  // "zip" or "legacy"
  std::string path;
};

Checkpoint read_checkpoint(const std::string& path);
Checkpoint parse_checkpoint(const std::string& bytes, const std::string& what);

// The state dict inside: the root when its values are tensors, else the first of root['state_dict'], ['model'],
// ['net'], ['model_state_dict'] (searched depth-first) that is one. `where` receives the path (e.g. "state_dict").
StateDict extract_state_dict(const Checkpoint& ckpt, std::string* where = nullptr);
// A string entry of the root dict (e.g. Cohen's 'arch'); empty when absent.
std::string root_string(const Checkpoint& ckpt, const std::string& key);

}  // namespace sc::torchfile
