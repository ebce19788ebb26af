// The idx format of MNIST and Fashion-MNIST (big-endian header: magic 0x0000080D, dims; then uint8 data),
// read whole, gunzipped when the file is gzip-compressed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sc::io {

struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
};

IdxArray read_idx(const std::string& path);
// Parses idx bytes (gzip-compressed or not); `what` names the source in errors.
IdxArray parse_idx(const std::string& bytes, const std::string& what);
// Decompresses gzip bytes (or returns them unchanged when not gzip); `what` names the source in errors.
std::string maybe_gunzip(const std::string& bytes, const std::string& what);

}  // namespace sc::io
