#include "io/inflate.h"

#include <zlib.h>

#include <algorithm>

#include "nn/error.h"

namespace sc::io {

std::string inflate_stream(std::string_view in, DeflateWrapper wrapper, std::optional<uint64_t> size,
                           const std::string& what, size_t piece) {
  const char* kind = wrapper == DeflateWrapper::Gzip ? "gzip" : "deflate";
  SC_CHECK(piece > 0 && piece <= UINT32_MAX, what, ": bad inflate piece size ", piece);
  z_stream zs{};
  // Window bits: negative for a raw stream, +16 for a gzip header and trailer.
  SC_CHECK(inflateInit2(&zs, wrapper == DeflateWrapper::Gzip ? 16 + MAX_WBITS : -MAX_WBITS) == Z_OK, what,
           ": cannot start ", kind, " decompression");
  std::string out(size ? *size : 0, '\0');
  size_t in_pos = 0, out_pos = 0;
  int rc = Z_OK;
  bool overrun = false;  // the stream goes on past the announced size
  while (rc != Z_STREAM_END) {
    if (out_pos == out.size() && !size) out.resize(std::max<size_t>(2 * out.size(), size_t{1} << 16));
    if (zs.avail_in == 0 && in_pos < in.size()) {
      const size_t n = std::min(piece, in.size() - in_pos);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + in_pos));
      zs.avail_in = static_cast<uInt>(n);
      in_pos += n;
    }
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + out_pos);
    zs.avail_out = static_cast<uInt>(std::min(piece, out.size() - out_pos));
    const uInt room = zs.avail_out;
    rc = inflate(&zs, Z_NO_FLUSH);
    out_pos += room - zs.avail_out;
    // Z_BUF_ERROR is "no progress": fine while more input or room can be given; otherwise the stream is
    // truncated (input spent) or longer than announced (output full; the end-of-stream code itself needs no
    // room).
    const bool input_spent = zs.avail_in == 0 && in_pos == in.size();
    overrun = size && out_pos == out.size() && !input_spent;
    if ((rc == Z_BUF_ERROR && (input_spent || overrun)) ||
        (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END))
      break;
  }
  inflateEnd(&zs);
  SC_CHECK(rc == Z_STREAM_END || !overrun, what, ": ", kind, " data runs past the ", *size,
           " bytes announced");
  SC_CHECK(rc == Z_STREAM_END, what, ": corrupt or truncated ", kind, " data (zlib status ", rc, ")");
  SC_CHECK(!size || out_pos == *size, what, ": ", kind, " data gives ", out_pos, " bytes, not the ", *size,
           " announced");
  out.resize(out_pos);
  return out;
}

}  // namespace sc::io
