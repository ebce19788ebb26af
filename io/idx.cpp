#include "io/idx.h"

#include "io/file_util.h"
#include "io/inflate.h"
#include "nn/error.h"
#include "nn/shape.h"

namespace sc::io {

std::string maybe_gunzip(const std::string& bytes, const std::string& what) {
  if (bytes.size() < 2 || static_cast<unsigned char>(bytes[0]) != 0x1f || static_cast<unsigned char>(bytes[1]) != 0x8b)
    return bytes;
  return inflate_stream(bytes, DeflateWrapper::Gzip, std::nullopt, what);
}

IdxArray read_idx(const std::string& path) {
  return parse_idx(read_file(path), "'" + path + "'");
}

IdxArray parse_idx(const std::string& bytes, const std::string& what) {
  const std::string b = maybe_gunzip(bytes, what);
  SC_CHECK(b.size() >= 4 && b[0] == 0 && b[1] == 0, what, ": not an idx file (bad magic)");
  SC_CHECK(static_cast<unsigned char>(b[2]) == 0x08, what, ": idx element type ",
           static_cast<int>(static_cast<unsigned char>(b[2])), " is not unsigned byte (0x08)");
  const int nd = static_cast<unsigned char>(b[3]);
  SC_CHECK(nd >= 1 && nd <= 4 && b.size() >= 4 + 4 * static_cast<size_t>(nd), what, ": bad idx header");
  IdxArray a;
  for (int i = 0; i < nd; ++i) {
    int64_t d = 0;
    for (int k = 0; k < 4; ++k) d = (d << 8) | static_cast<unsigned char>(b[4 + 4 * i + k]);
    a.dims.push_back(d);
  }
  const size_t n = static_cast<size_t>(checked_numel(a.dims, what));
  const size_t start = 4 + 4 * static_cast<size_t>(nd);
  SC_CHECK(b.size() - start == n, what, ": idx data has ", b.size() - start, " bytes, the header announces ", n,
           b.size() - start < n ? " (truncated)" : "");
  a.data.assign(b.begin() + static_cast<std::ptrdiff_t>(start), b.end());
  return a;
}

}  // namespace sc::io
