// A Python pickle reader that executes nothing. It interprets the opcodes of protocols 0–5 into a tree of
// plain values (None, bool, int, float, str, bytes, tuple, list, dict) and builds only what checkpoints need:
// tensors (torch._utils._rebuild_tensor[_v2], _rebuild_parameter), OrderedDict, and numpy scalars. Any other
// global — os.system, builtins.eval, a model class — is refused with its name before anything is built.
// Tensors refer to storages through the persistent-id callback the caller provides (zip or legacy layout).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/tensor.h"

namespace sc::pickle {

// Raw storage of a checkpoint (a torch.*Storage): element type, element count and, once read, its bytes.
struct Storage {
  std::string key;
  DType dtype = DType::F32;  // float64 storages load as float32
  bool is_f64 = false;       // bytes hold doubles (converted when tensors are materialized)
  std::string type_name;     // e.g. "FloatStorage"
  int64_t numel = 0;
  std::string bytes;         // numel · element size, little-endian
};

// A tensor view into a storage, as torch._utils._rebuild_tensor_v2 describes it.
struct TensorRef {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;
  Shape size;
  std::vector<int64_t> stride;
};

struct Value;
using ValuePtr = std::shared_ptr<Value>;

struct Value {
  enum class Kind {
    None, Bool, Int, BigInt, Float, String, Bytes, Tuple, List, Dict, Global, Storage, Tensor, DType, NDArray
  };
  Kind kind = Kind::None;
  bool boolean = false;
  int64_t integer = 0;
  double real = 0;
  // String, Bytes, BigInt (little-endian two's complement bytes), DType name, NDArray data
  std::string text;
  Shape array_shape;       // NDArray
  std::string array_type;  // NDArray element type, numpy style ("u1", "i8", ...)
  std::vector<ValuePtr> items;                           // Tuple, List
  std::vector<std::pair<ValuePtr, ValuePtr>> entries;    // Dict, in insertion order
  std::string module, name;                              // Global
  std::shared_ptr<Storage> storage;                      // Storage
  std::shared_ptr<TensorRef> tensor;                     // Tensor

  bool is_string() const { return kind == Kind::String; }
  const Value* get(const std::string& key) const;  // Dict lookup by string key
  std::string describe() const;                    // a short type description for errors
};

// Called for persistent ids (BINPERSID): receives the id tuple, returns the Storage value it names.
using PersistentLoad = std::function<ValuePtr(const Value& pid)>;

struct Unpickled {
  ValuePtr value;
  size_t end = 0;  // offset just past the STOP opcode
};

// Reads one pickle starting at `offset` of `data`. `what` names the source in errors.
Unpickled load(const std::string& data, size_t offset, const PersistentLoad& persistent_load, const std::string& what);

// Storage class name (FloatStorage, …) → element dtype; throws for unsupported ones.
void storage_dtype(const std::string& type_name, DType& dtype, bool& is_f64, const std::string& what);
// Builds the CPU tensor a TensorRef describes (copying the strided view out of its storage).
Tensor materialize(const TensorRef& ref, const std::string& what);

}  // namespace sc::pickle
