#include "io/npy.h"

#include <cstring>

#include "io/file_util.h"
#include "nn/parse_number.h"

namespace sc::io {

namespace {
// Value of `key` in the header's Python dict literal, e.g. 'descr': '<f4'.
std::string header_field(const std::string& header, const std::string& key, const std::string& what) {
  const std::string k = "'" + key + "'";
  size_t p = header.find(k);
  SC_CHECK(p != std::string::npos, what, ": .npy header has no '", key, "' field: ", header);
  p = header.find(':', p + k.size());
  SC_CHECK(p != std::string::npos, what, ": malformed .npy header: ", header);
  ++p;
  while (p < header.size() && header[p] == ' ') ++p;
  size_t end;
  if (header[p] == '\'') {
    end = header.find('\'', p + 1);
    SC_CHECK(end != std::string::npos, what, ": malformed .npy header: ", header);
    return header.substr(p + 1, end - p - 1);
  }
  if (header[p] == '(') {
    end = header.find(')', p);
    SC_CHECK(end != std::string::npos, what, ": malformed .npy header: ", header);
    return header.substr(p + 1, end - p - 1);
  }
  end = header.find_first_of(",}", p);
  return header.substr(p, end - p);
}

Shape parse_shape(const std::string& s, const std::string& what) {
  Shape shape;
  size_t p = 0;
  while (p < s.size()) {
    while (p < s.size() && (s[p] == ' ' || s[p] == ',')) ++p;
    if (p >= s.size()) break;
    size_t end = p;
    while (end < s.size() && std::isdigit(static_cast<unsigned char>(s[end]))) ++end;
    const auto dim = parse_int64(s.substr(p, end - p));
    SC_CHECK(end > p && dim, what, ": bad shape (", s, ") in .npy header");
    shape.push_back(*dim);
    p = end;
  }
  return shape;
}

std::string descr_of(DType t) {
  switch (t) {
    case DType::F32: return "<f4";
    case DType::U8: return "|u1";
    case DType::I32: return "<i4";
    case DType::I64: return "<i8";
    default: SC_FAIL("write_npy: dtype ", dtype_name(t), " has no .npy writer (convert to float32 first)");
  }
}

std::string make_npy(const std::string& descr, const Shape& shape, const void* data, size_t nbytes) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) dict += std::to_string(shape[i]) + (shape.size() == 1 ? "," : i + 1 < shape.size() ? ", " : "");
  dict += "), }";
  // Pad with spaces so that magic (6) + version (2) + length (2) + header ends at a multiple of 64, then '\n'.
  size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  const uint16_t len = static_cast<uint16_t>(dict.size());
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>(len >> 8);
  out += dict;
  out.append(static_cast<const char*>(data), nbytes);
  return out;
}

struct NpyHeader {
  std::string descr;
  Shape shape;
  size_t data_start = 0;
};

NpyHeader parse_header(const std::string& bytes, const std::string& what) {
  SC_CHECK(bytes.size() >= 10 && bytes.compare(0, 6, "\x93NUMPY") == 0, what,
           ": not a .npy file (bad magic or too short)");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len, header_start;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    SC_CHECK(bytes.size() >= 12, what, ": truncated .npy header");
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    header_start = 12;
  } else {
    SC_FAIL(what, ": unsupported .npy format version ", major);
  }
  SC_CHECK(header_start + header_len <= bytes.size(), what, ": truncated .npy header (", header_len,
           " bytes announced, ", bytes.size() - header_start, " present)");
  const std::string header = bytes.substr(header_start, header_len);
  const std::string descr = header_field(header, "descr", what);
  const std::string fortran = header_field(header, "fortran_order", what);
  SC_CHECK(fortran.find("False") != std::string::npos, what,
           ": Fortran-order arrays are not supported; save with np.ascontiguousarray(a)");
  return {descr, parse_shape(header_field(header, "shape", what), what), header_start + header_len};
}

}  // namespace

Tensor parse_npy(const std::string& bytes, const std::string& what) {
  const NpyHeader h = parse_header(bytes, what);
  const std::string& descr = h.descr;
  const Shape& shape = h.shape;
  DType dtype;
  size_t item;
  bool f64 = false;
  if (descr == "<f4") {
    dtype = DType::F32;
    item = 4;
  } else if (descr == "<f8") {
    dtype = DType::F32;
    item = 8;
    f64 = true;
  } else if (descr == "|u1" || descr == "<u1") {
    dtype = DType::U8;
    item = 1;
  } else if (descr == "<i4") {
    dtype = DType::I32;
    item = 4;
  } else if (descr == "<i8") {
    dtype = DType::I64;
    item = 8;
  } else if (!descr.empty() && descr[0] == '>') {
    SC_FAIL(what, ": big-endian dtype '", descr, "' is not supported; save with a.astype(a.dtype.newbyteorder('<'))");
  } else {
    SC_FAIL(what, ": unsupported .npy dtype '", descr, "' (supported: float32, float64, uint8, int32, int64)");
  }
  const size_t n = static_cast<size_t>(checked_numel(shape, what));
  const size_t data_start = h.data_start, need = n * item;
  SC_CHECK(bytes.size() - data_start >= need, what, ": truncated .npy data: shape ", shape_str(shape), " needs ",
           need, " bytes, file has ", bytes.size() - data_start);
  SC_CHECK(bytes.size() - data_start == need, what, ": ", bytes.size() - data_start - need,
           " unexpected trailing bytes after the .npy data");
  Tensor t = Tensor::empty(shape, dtype);
  const char* src = bytes.data() + data_start;
  if (f64) {
    float* dst = t.data<float>();
    for (size_t i = 0; i < n; ++i) {
      double v;
      std::memcpy(&v, src + 8 * i, 8);
      dst[i] = static_cast<float>(v);
    }
  } else {
    std::memcpy(t.raw_data(), src, need);
  }
  return t;
}

Tensor read_npy(const std::string& path) { return parse_npy(read_file(path), "'" + path + "'"); }

std::vector<double> read_npy_f64(const std::string& path, Shape* shape) {
  const std::string bytes = read_file(path);
  const std::string what = "'" + path + "'";
  const Tensor t = parse_npy(bytes, what);  // validates header, size and dtype
  if (shape) *shape = t.shape();
  const size_t n = static_cast<size_t>(t.numel());
  std::vector<double> out(n);
  const NpyHeader h = parse_header(bytes, what);
  if (h.descr == "<f8") {
    std::memcpy(out.data(), bytes.data() + h.data_start, n * 8);
  } else {
    SC_CHECK(t.dtype() == DType::F32, what, ": expected float64 or float32 data");
    for (size_t i = 0; i < n; ++i) out[i] = t.data<float>()[i];
  }
  return out;
}

void write_npy(const std::string& path, const Tensor& t) {
  const Tensor c = t.contiguous().cpu();
  write_file_atomic(path, make_npy(descr_of(c.dtype()), c.shape(), c.raw_data(), c.nbytes()));
}

void write_npy_f64(const std::string& path, const std::vector<double>& values, const Shape& shape) {
  SC_CHECK(static_cast<int64_t>(values.size()) == numel_of(shape), "write_npy_f64: ", values.size(),
           " values for shape ", shape_str(shape));
  write_file_atomic(path, make_npy("<f8", shape, values.data(), values.size() * 8));
}

}  // namespace sc::io
