#include "weights_tools/torch_checkpoint.h"

#include <map>

#include "io/file_util.h"
#include "weights_tools/zip_reader.h"

namespace sc::torchfile {

namespace {

using pickle::Value;
using pickle::ValuePtr;

// Parses a persistent id ('storage', torch.XStorage, key, location, numel[, view_metadata]) into a Storage,
// one per key (a storage shared by several tensors is read once).
class StorageTable {
 public:
  explicit StorageTable(std::string what) : what_(std::move(what)) {}

  ValuePtr load(const Value& pid) {
    SC_CHECK(pid.kind == Value::Kind::Tuple && pid.items.size() >= 5 && pid.items[0]->is_string() &&
                 pid.items[0]->text == "storage",
             what_, ": unsupported persistent id in checkpoint (expected a 'storage' record)");
    const Value& type = *pid.items[1];
    SC_CHECK(type.kind == Value::Kind::Global, what_, ": storage record without a storage type");
    const std::string key = pid.items[2]->text;
    SC_CHECK(pid.items[4]->kind == Value::Kind::Int, what_, ": storage ", key, " has no element count");
    if (pid.items.size() > 5)
      SC_CHECK(pid.items[5]->kind == Value::Kind::None, what_,
               ": storage views (files from PyTorch < 0.4) are not supported; re-save the checkpoint");
    auto& s = storages_[key];
    if (!s) {
      s = std::make_shared<pickle::Storage>();
      s->key = key;
      s->type_name = type.name;
      s->numel = checked_numel({pid.items[4]->integer}, what_ + " storage " + key);
      pickle::storage_dtype(type.name, s->dtype, s->is_f64, what_);
    }
    auto v = std::make_shared<Value>();
    v->kind = Value::Kind::Storage;
    v->storage = s;
    return v;
  }

  std::map<std::string, std::shared_ptr<pickle::Storage>>& all() { return storages_; }

 private:
  std::string what_;
  std::map<std::string, std::shared_ptr<pickle::Storage>> storages_;
};

size_t item_size(const pickle::Storage& s) { return s.is_f64 ? 8 : dtype_size(s.dtype); }

Checkpoint parse_zip(const std::string& bytes, const std::string& what) {
  zip::Archive ar(bytes, what);
  std::string prefix;
  for (const auto& e : ar.entries())
    if (e.name.size() >= 8 && e.name.compare(e.name.size() - 8, 8, "data.pkl") == 0) {
      prefix = e.name.substr(0, e.name.size() - 8);
      break;
    }
  SC_CHECK(ar.find(prefix + "data.pkl"), what, ": ZIP file without data.pkl: not a PyTorch checkpoint");
  if (const zip::Entry* bo = ar.find(prefix + "byteorder"))
    SC_CHECK(ar.read(*bo) == "little", what, ": big-endian checkpoints are not supported");
  StorageTable table(what);
  const std::string pkl = ar.read(prefix + "data.pkl");
  Checkpoint c;
  c.format = "zip";
  c.root = pickle::load(pkl, 0, [&](const Value& pid) { return table.load(pid); }, what).value;
  for (auto& [key, s] : table.all()) {
    const std::string name = prefix + "data/" + key;
    const zip::Entry* e = ar.find(name);
    SC_CHECK(e, what, ": storage '", key, "' missing from the archive (", name, ")");
    s->bytes = ar.read(*e);
    // Storages may be stored with trailing padding; they may not be short.
    SC_CHECK(s->bytes.size() >= static_cast<size_t>(s->numel) * item_size(*s), what, ": storage '", key, "' has ",
             s->bytes.size(), " bytes, expected ", s->numel * static_cast<int64_t>(item_size(*s)));
    s->bytes.resize(static_cast<size_t>(s->numel) * item_size(*s));
  }
  return c;
}

Checkpoint parse_legacy(const std::string& bytes, const std::string& what) {
  auto magic = pickle::load(bytes, 0, nullptr, what);
  // 0x1950a86a20f9469cfc6c, as little-endian bytes of the pickled long.
  static const std::string kMagic("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
  SC_CHECK(magic.value->kind == Value::Kind::BigInt && magic.value->text == kMagic, what,
           ": not a PyTorch checkpoint (bad magic number)");
  auto protocol = pickle::load(bytes, magic.end, nullptr, what);
  SC_CHECK(protocol.value->kind == Value::Kind::Int && protocol.value->integer == 1001, what,
           ": unsupported legacy checkpoint protocol");
  auto sys_info = pickle::load(bytes, protocol.end, nullptr, what);
  if (const Value* le = sys_info.value->get("little_endian"))
    SC_CHECK(le->kind == Value::Kind::Bool && le->boolean, what, ": big-endian checkpoints are not supported");
  StorageTable table(what);
  auto main = pickle::load(bytes, sys_info.end, [&](const Value& pid) { return table.load(pid); }, what);
  auto keys = pickle::load(bytes, main.end, nullptr, what);
  SC_CHECK(keys.value->kind == Value::Kind::List, what, ": corrupt legacy checkpoint (no storage key list)");
  size_t p = keys.end;
  for (const auto& k : keys.value->items) {
    SC_CHECK(k->is_string(), what, ": corrupt storage key list");
    auto it = table.all().find(k->text);
    SC_CHECK(it != table.all().end(), what, ": storage key ", k->text, " was never referenced");
    auto& s = *it->second;
    SC_CHECK(p + 8 <= bytes.size(), what, ": truncated checkpoint (storage ", k->text, " header at byte ", p, ")");
    int64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= static_cast<int64_t>(static_cast<uint8_t>(bytes[p + i])) << (8 * i);
    p += 8;
    SC_CHECK(n == s.numel, what, ": storage ", k->text, " announces ", n, " elements, the pickle says ", s.numel);
    const size_t len = static_cast<size_t>(n) * item_size(s);
    SC_CHECK(p + len <= bytes.size(), what, ": truncated checkpoint: storage ", k->text, " needs ", len,
             " bytes at offset ", p, ", the file has ", bytes.size());
    s.bytes = bytes.substr(p, len);
    p += len;
  }
  for (const auto& [key, s] : table.all())
    SC_CHECK(s->bytes.size() == static_cast<size_t>(s->numel) * item_size(*s), what, ": storage ", key,
             " has no data in the file (truncated checkpoint?)");
  Checkpoint c;
  c.format = "legacy";
  c.root = main.value;
  return c;
}

bool is_tensor_dict(const Value& v) {
  if (v.kind != Value::Kind::Dict || v.entries.empty()) return false;
  for (const auto& [k, t] : v.entries)
    if (!k->is_string() || t->kind != Value::Kind::Tensor) return false;
  return true;
}

const Value* find_state(const Value& v, const std::string& at, std::string* where, int depth) {
  if (is_tensor_dict(v)) {
    if (where) *where = at;
    return &v;
  }
  if (depth > 3 || v.kind != Value::Kind::Dict) return nullptr;
  for (const char* key : {"state_dict", "model", "net", "model_state_dict", "state"})
    if (const Value* c = v.get(key))
      if (const Value* r = find_state(*c, at.empty() ? key : at + "." + key, where, depth + 1)) return r;
  return nullptr;
}

}  // namespace

Checkpoint parse_checkpoint(const std::string& bytes, const std::string& what) {
  SC_CHECK(!bytes.empty(), what, ": empty file");
  Checkpoint c = zip::looks_like_zip(bytes) ? parse_zip(bytes, what) : parse_legacy(bytes, what);
  return c;
}

Checkpoint read_checkpoint(const std::string& path) {
  const std::string bytes = io::read_file(path);
  Checkpoint c = parse_checkpoint(bytes, "'" + path + "'");
  c.path = path;
  return c;
}

StateDict extract_state_dict(const Checkpoint& ckpt, std::string* where) {
  const std::string what = "'" + ckpt.path + "'";
  const Value* sd = find_state(*ckpt.root, "", where, 0);
  SC_CHECK(sd, what, ": no state dict found (looked at the top level and under state_dict, model, net, "
                     "model_state_dict)");
  StateDict out;
  for (const auto& [k, t] : sd->entries) out.emplace_back(k->text, pickle::materialize(*t->tensor, what + " key '" + k->text + "'"));
  return out;
}

std::string root_string(const Checkpoint& ckpt, const std::string& key) {
  const Value* v = ckpt.root->get(key);
  return v && v->is_string() ? v->text : "";
}

}  // namespace sc::torchfile
