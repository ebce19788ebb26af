// io/inflate.h: whole deflate streams, raw (ZIP entries) and gzip (.gz datasets), fed to zlib in pieces; a
// stream that is cut, corrupt, or longer or shorter than announced is an error.
#include <random>

#include "io/inflate.h"
#include "test_util.h"

namespace sc::test {
namespace {

// 100,003 bytes: runs of repeats (compressible, so the stream expands a lot) between random stretches.
std::string sample_bytes() {
  std::mt19937_64 rng(7);
  std::string s;
  while (s.size() < 100003) {
    if (rng() % 2)
      s.append(1 + rng() % 300, static_cast<char>(rng()));
    else
      for (int i = 0; i < 50; ++i) s += static_cast<char>(rng());
  }
  s.resize(100003);
  return s;
}

TEST(Inflate, WholeStreamsInAnyPieceSize) {
  const std::string raw = sample_bytes();
  for (const bool gzip : {false, true}) {
    const std::string z = deflate_bytes(raw, gzip);
    ASSERT_LT(z.size(), raw.size() / 2);
    const io::DeflateWrapper w = gzip ? io::DeflateWrapper::Gzip : io::DeflateWrapper::Raw;
    for (const size_t piece : {size_t{1} << 30, size_t{4093}, size_t{7}, size_t{1}}) {
      SCOPED_TRACE(std::string(gzip ? "gzip" : "raw") + ", pieces of " + std::to_string(piece));
      EXPECT_EQ(io::inflate_stream(z, w, std::nullopt, "'x'", piece), raw);
      EXPECT_EQ(io::inflate_stream(z, w, raw.size(), "'x'", piece), raw);
      EXPECT_EQ(io::inflate_stream(z + "trailing bytes", w, raw.size(), "'x'", piece), raw);  // ignored
    }
  }
  EXPECT_EQ(io::inflate_stream(deflate_bytes("", false), io::DeflateWrapper::Raw, 0, "'x'"), "");
}

TEST(Inflate, BadStreamsAreErrors) {
  const std::string raw = sample_bytes();
  const std::string z = deflate_bytes(raw, false), gz = deflate_bytes(raw, true);
  const auto Raw = io::DeflateWrapper::Raw, Gzip = io::DeflateWrapper::Gzip;
  for (const size_t piece : {size_t{1} << 30, size_t{5}}) {
    SCOPED_TRACE("pieces of " + std::to_string(piece));
    EXPECT_ERROR_MENTIONS(io::inflate_stream(z, Raw, raw.size() - 1, "'f.pt'", piece), "'f.pt'",
                          "runs past the 100002 bytes announced");
    EXPECT_ERROR_MENTIONS(io::inflate_stream(z, Raw, raw.size() + 1, "'f.pt'", piece),
                          "gives 100003 bytes, not the 100004 announced");
    EXPECT_ERROR_MENTIONS(io::inflate_stream(z.substr(0, z.size() - 9), Raw, raw.size(), "'f.pt'", piece),
                          "corrupt or truncated deflate data");
    EXPECT_ERROR_MENTIONS(
        io::inflate_stream(gz.substr(0, gz.size() / 2), Gzip, std::nullopt, "'f.gz'", piece), "'f.gz'",
        "corrupt or truncated gzip data");
    std::string flipped = gz;  // gzip's CRC-32 catches what the deflate stream itself cannot
    flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x10);
    EXPECT_ERROR_MENTIONS(io::inflate_stream(flipped, Gzip, std::nullopt, "'f.gz'", piece), "gzip data");
  }
  EXPECT_ERROR_MENTIONS(io::inflate_stream("", Gzip, std::nullopt, "'e.gz'"), "truncated gzip data");
  EXPECT_ERROR_MENTIONS(io::inflate_stream(z, Raw, raw.size(), "'x'", 0), "piece size");
}

}  // namespace
}  // namespace sc::test
