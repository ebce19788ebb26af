#include "io/safetensors.h"

#include <algorithm>
#include <cstring>

#include "io/file_util.h"
#include "io/json.h"

namespace sc::io {

namespace {
const char* st_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
    case DType::U8: return "U8";
  }
  return "?";
}
}  // namespace

const Tensor* Safetensors::find(const std::string& name) const {
  for (const auto& [k, t] : tensors)
    if (k == name) return &t;
  return nullptr;
}

const Tensor& Safetensors::at(const std::string& name) const {
  const Tensor* t = find(name);
  SC_CHECK(t != nullptr, "missing tensor '", name, "'");
  return *t;
}

Safetensors parse_safetensors(const std::string& bytes, const std::string& what) {
  SC_CHECK(bytes.size() >= 8, what, ": not a safetensors file (", bytes.size(), " bytes, shorter than its header)");
  uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  SC_CHECK(header_len <= bytes.size() - 8, what, ": truncated safetensors file: header announces ", header_len,
           " bytes, ", bytes.size() - 8, " follow");
  const json::Value header = json::parse(bytes.substr(8, header_len), "header of " + what);
  SC_CHECK(header.kind == json::Value::Kind::Object, what, ": safetensors header is not a JSON object");
  const size_t data_start = 8 + header_len, data_size = bytes.size() - data_start;

  Safetensors out;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& [name, entry] : header.members) {
    if (name == "__metadata__") {
      SC_CHECK(entry.kind == json::Value::Kind::Object, what, ": __metadata__ is not an object");
      for (const auto& [k, v] : entry.members) {
        SC_CHECK(v.kind == json::Value::Kind::String, what, ": metadata '", k, "' is not a string");
        out.metadata[k] = v.text;
      }
      continue;
    }
    const json::Value* dt = entry.find("dtype");
    const json::Value* sh = entry.find("shape");
    const json::Value* off = entry.find("data_offsets");
    SC_CHECK(dt && sh && off && dt->kind == json::Value::Kind::String && sh->kind == json::Value::Kind::Array &&
                 off->kind == json::Value::Kind::Array && off->items.size() == 2,
             what, ": tensor '", name, "' needs dtype, shape and two data_offsets");
    Shape shape;
    for (const auto& d : sh->items) {
      SC_CHECK(d.is_integer() && d.as_int() >= 0, what, ": tensor '", name, "' has a bad shape entry");
      shape.push_back(d.as_int());
    }
    SC_CHECK(off->items[0].is_integer() && off->items[1].is_integer(), what, ": tensor '", name,
             "' has non-integer data_offsets");
    const int64_t b = off->items[0].as_int(), e = off->items[1].as_int();
    SC_CHECK(0 <= b && b <= e, what, ": tensor '", name, "' has bad data_offsets [", b, ", ", e, "]");
    SC_CHECK(static_cast<uint64_t>(e) <= data_size, what, ": truncated safetensors file: tensor '", name,
             "' ends at byte ", e, " of the data section, which has ", data_size, " bytes");
    DType dtype;
    size_t item;
    bool f64 = false;
    const std::string& d = dt->text;
    if (d == "F64") {
      dtype = DType::F32;
      item = 8;
      f64 = true;
    } else if (d == "F32") {
      dtype = DType::F32;
      item = 4;
    } else if (d == "F16") {
      dtype = DType::F16;
      item = 2;
    } else if (d == "BF16") {
      dtype = DType::BF16;
      item = 2;
    } else if (d == "I32") {
      dtype = DType::I32;
      item = 4;
    } else if (d == "I64") {
      dtype = DType::I64;
      item = 8;
    } else if (d == "U8") {
      dtype = DType::U8;
      item = 1;
    } else {
      SC_FAIL(what, ": tensor '", name, "' has unsupported dtype '", d, "'");
    }
    const uint64_t need = static_cast<uint64_t>(checked_numel(shape, what + " tensor '" + name + "'")) * item;
    SC_CHECK(static_cast<uint64_t>(e - b) == need, what, ": tensor '", name, "' of shape ", shape_str(shape), " ",
             d, " needs ", need, " bytes but data_offsets give ", e - b);
    ranges.emplace_back(b, e);
    Tensor t = Tensor::empty(shape, dtype);
    const char* src = bytes.data() + data_start + b;
    if (f64) {
      float* dst = t.data<float>();
      for (int64_t i = 0; i < t.numel(); ++i) {
        double v;
        std::memcpy(&v, src + 8 * i, 8);
        dst[i] = static_cast<float>(v);
      }
    } else {
      std::memcpy(t.raw_data(), src, need);
    }
    out.tensors.emplace_back(name, std::move(t));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    SC_CHECK(ranges[i].first >= ranges[i - 1].second, what, ": tensors overlap in the data section");
  return out;
}

Safetensors read_safetensors(const std::string& path) { return parse_safetensors(read_file(path), "'" + path + "'"); }

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::string header = "{";
  std::string data;
  bool first = true;
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (auto it = metadata.begin(); it != metadata.end(); ++it) {
      if (it != metadata.begin()) header += ',';
      header += json::quote(it->first);
      header += ':';
      header += json::quote(it->second);
    }
    header += "}";
    first = false;
  }
  for (const auto& [name, tensor] : tensors) {
    SC_CHECK(name != "__metadata__", "write_safetensors: '__metadata__' is reserved");
    const Tensor t = tensor.contiguous().cpu();
    if (!first) header += ',';
    header += json::quote(name);
    header += ":{\"dtype\":\"";
    header += st_name(t.dtype());
    header += "\",\"shape\":[";
    for (int64_t i = 0; i < t.dim(); ++i) {
      if (i) header += ',';
      header += std::to_string(t.size(i));
    }
    header += "],\"data_offsets\":[" + std::to_string(data.size()) + "," + std::to_string(data.size() + t.nbytes()) +
              "]}";
    data.append(static_cast<const char*>(t.raw_data()), t.nbytes());
    first = false;
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');  // keep the data 8-byte aligned
  std::string out(8, '\0');
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  write_file_atomic(path, out + header + data);
}

}  // namespace sc::io
