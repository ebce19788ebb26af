// A read-only ZIP reader for PyTorch's checkpoint archives (torch ≥ 1.6): central directory, stored and
// deflated entries, ZIP64 sizes and offsets. Errors name the archive and the entry.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sc::zip {

struct Entry {
  std::string name;
  uint16_t method = 0;  // 0 stored, 8 deflate
  uint64_t compressed_size = 0, size = 0, local_header_offset = 0;
};

bool looks_like_zip(const std::string& bytes);

class Archive {
 public:
  Archive(const std::string& bytes, std::string what);  // keeps a reference to bytes
  const std::vector<Entry>& entries() const { return entries_; }
  const Entry* find(const std::string& name) const;
  std::string read(const Entry& e) const;
  std::string read(const std::string& name) const;

 private:
  const std::string& bytes_;
  std::string what_;
  std::vector<Entry> entries_;
};

}  // namespace sc::zip
