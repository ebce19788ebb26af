// Deflate decompression of whole streams from files: raw (ZIP entries) or gzip-wrapped (.gz datasets).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sc::io {

enum class DeflateWrapper { Raw, Gzip };

// Decompresses one whole stream; bytes after its end are ignored. With `size` known (a ZIP directory's), the
// output is allocated once and must come out exactly that long; otherwise it grows as the data comes. zlib
// counts in 32 bits, so input and output are handed to it in pieces of at most `piece` bytes (a parameter
// only so that tests can exercise the pieces on small data). Corrupt or truncated data is an sc::Error naming
// `what`.
std::string inflate_stream(std::string_view compressed, DeflateWrapper wrapper, std::optional<uint64_t> size,
                           const std::string& what, size_t piece = size_t{1} << 30);

}  // namespace sc::io
