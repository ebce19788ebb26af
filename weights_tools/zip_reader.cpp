#include "weights_tools/zip_reader.h"

#include "io/inflate.h"
#include "nn/error.h"

namespace sc::zip {

namespace {
// True when n bytes at offset `at` lie inside the archive. Offsets and sizes come from the file (ZIP64 ones
// are 64 bits wide), so `at + n` could wrap around; this cannot.
bool fits(uint64_t at, uint64_t n, const std::string& b) {
  return at <= b.size() && n <= b.size() - at;
}

uint64_t rd(const std::string& b, uint64_t at, size_t n, const std::string& what) {
  SC_CHECK(fits(at, n, b), what, ": truncated ZIP archive (record at byte ", at, " runs past the end)");
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(b[at + i])) << (8 * i);
  return v;
}
}  // namespace

bool looks_like_zip(const std::string& b) { return b.size() >= 4 && b.compare(0, 4, "PK\x03\x04") == 0; }

Archive::Archive(const std::string& bytes, std::string what) : bytes_(bytes), what_(std::move(what)) {
  const std::string& b = bytes_;
  // End of central directory: the last "PK\5\6" within the final 64 KiB + 22 bytes.
  SC_CHECK(b.size() >= 22, what_, ": truncated ZIP archive (no end-of-directory record)");
  size_t eocd = std::string::npos;
  const size_t lo = b.size() > 65557 ? b.size() - 65557 : 0;
  for (size_t p = b.size() - 22 + 1; p-- > lo;)
    if (b.compare(p, 4, "PK\x05\x06") == 0) {
      eocd = p;
      break;
    }
  SC_CHECK(eocd != std::string::npos, what_, ": truncated or corrupt ZIP archive (no end-of-directory record)");
  uint64_t count = rd(b, eocd + 10, 2, what_);
  uint64_t cd_offset = rd(b, eocd + 16, 4, what_);
  if (cd_offset == 0xffffffffu || count == 0xffff) {  // ZIP64: locator just before the EOCD
    SC_CHECK(eocd >= 20 && b.compare(eocd - 20, 4, "PK\x06\x07") == 0, what_, ": ZIP64 locator missing");
    const uint64_t z64 = rd(b, eocd - 20 + 8, 8, what_);
    SC_CHECK(fits(z64, 56, b) && b.compare(z64, 4, "PK\x06\x06") == 0, what_, ": corrupt ZIP64 directory");
    count = rd(b, z64 + 32, 8, what_);
    cd_offset = rd(b, z64 + 48, 8, what_);
  }
  uint64_t p = cd_offset;
  for (uint64_t i = 0; i < count; ++i) {
    SC_CHECK(fits(p, 46, b) && b.compare(p, 4, "PK\x01\x02") == 0, what_,
             ": corrupt ZIP central directory (entry ", i, ")");
    Entry e;
    e.method = static_cast<uint16_t>(rd(b, p + 10, 2, what_));
    e.compressed_size = rd(b, p + 20, 4, what_);
    e.size = rd(b, p + 24, 4, what_);
    const size_t name_len = rd(b, p + 28, 2, what_), extra_len = rd(b, p + 30, 2, what_);
    const size_t comment_len = rd(b, p + 32, 2, what_);
    e.local_header_offset = rd(b, p + 42, 4, what_);
    SC_CHECK(fits(p, 46 + name_len + extra_len, b), what_, ": corrupt ZIP central directory");
    e.name = b.substr(p + 46, name_len);
    // ZIP64 extra field (id 1): the 0xffffffff fields, in order size, compressed size, offset.
    size_t x = p + 46 + name_len;
    const size_t xend = x + extra_len;
    while (x + 4 <= xend) {
      const uint64_t id = rd(b, x, 2, what_), len = rd(b, x + 2, 2, what_);
      if (id == 1) {
        size_t q = x + 4;
        if (e.size == 0xffffffffu) e.size = rd(b, q, 8, what_), q += 8;
        if (e.compressed_size == 0xffffffffu) e.compressed_size = rd(b, q, 8, what_), q += 8;
        if (e.local_header_offset == 0xffffffffu) e.local_header_offset = rd(b, q, 8, what_);
      }
      x += 4 + len;
    }
    entries_.push_back(e);
    p += 46 + name_len + extra_len + comment_len;
  }
}

const Entry* Archive::find(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

std::string Archive::read(const Entry& e) const {
  const std::string& b = bytes_;
  const uint64_t h = e.local_header_offset;
  SC_CHECK(fits(h, 30, b) && b.compare(h, 4, "PK\x03\x04") == 0, what_, ": corrupt ZIP entry '", e.name, "'");
  const uint64_t start = h + 30 + rd(b, h + 26, 2, what_) + rd(b, h + 28, 2, what_);
  SC_CHECK(fits(start, e.compressed_size, b), what_, ": truncated ZIP archive: entry '", e.name, "' needs ",
           e.compressed_size, " bytes at offset ", start, ", the file has ", b.size());
  if (e.method == 0) {
    SC_CHECK(e.size == e.compressed_size, what_, ": corrupt stored ZIP entry '", e.name, "'");
    return b.substr(start, e.size);
  }
  SC_CHECK(e.method == 8, what_, ": ZIP entry '", e.name, "' uses unsupported compression method ", e.method);
  // Deflate expands at most 1032:1, so a larger size in the directory is a lie, found before it is allocated.
  SC_CHECK(e.size / 1032 <= e.compressed_size, what_, ": corrupt ZIP entry '", e.name, "' (", e.size,
           " bytes from ", e.compressed_size, " compressed)");
  return io::inflate_stream(std::string_view(b).substr(start, e.compressed_size), io::DeflateWrapper::Raw,
                            e.size, what_ + ": ZIP entry '" + e.name + "'");
}

std::string Archive::read(const std::string& name) const {
  const Entry* e = find(name);
  SC_CHECK(e != nullptr, what_, ": ZIP archive has no entry '", name, "'");
  return read(*e);
}

}  // namespace sc::zip
