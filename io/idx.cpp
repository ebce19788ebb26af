#include "io/idx.h"

#include <zlib.h>

#include "io/file_util.h"
#include "nn/error.h"
#include "nn/shape.h"

namespace sc::io {

std::string maybe_gunzip(const std::string& bytes, const std::string& what) {
  if (bytes.size() < 2 || static_cast<unsigned char>(bytes[0]) != 0x1f || static_cast<unsigned char>(bytes[1]) != 0x8b)
    return bytes;
  z_stream zs{};
  SC_CHECK(inflateInit2(&zs, 16 + MAX_WBITS) == Z_OK, what, ": cannot start gzip decompression");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  std::string out;
  char buf[1 << 16];
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      SC_FAIL(what, ": corrupt or truncated gzip data (zlib error ", rc, ")");
    }
    out.append(buf, sizeof buf - zs.avail_out);
  } while (rc != Z_STREAM_END && (zs.avail_in > 0 || zs.avail_out == 0));
  inflateEnd(&zs);
  SC_CHECK(rc == Z_STREAM_END, what, ": truncated gzip data");
  return out;
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
