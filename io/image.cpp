#include "io/image.h"

#include <jerror.h>
#include <jpeglib.h>
#include <png.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>

#include "io/file_util.h"
#include "nn/error.h"

namespace sc::io {

namespace {

struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpeg_fail(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->message);
  std::longjmp(e->jump, 1);
}

// PIL's decompression-bomb limit (Image.MAX_IMAGE_PIXELS, doubled: where PIL errors instead of warning),
// checked from the header, before the pixels are allocated: a few corrupt header bytes must not ask for
// gigabytes.
void check_pixel_count(uint64_t height, uint64_t width, const std::string& what) {
  constexpr uint64_t kMaxPixels = 2 * 89478485ull;
  SC_CHECK(
      height > 0 && width > 0 && height <= kMaxPixels && width <= kMaxPixels && height * width <= kMaxPixels,
      what, ": image of ", width, "x", height, " pixels is beyond PIL's decompression-bomb limit (",
      kMaxPixels, " pixels; corrupt file?)");
}

Image decode_jpeg(const std::string& bytes, const std::string& what) {
  jpeg_decompress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_fail;
  // Warnings (extraneous bytes between markers) are not errors, but the end of the data before the image's
  // is: libjpeg would fill the rest with gray where PIL refuses a truncated file.
  err.mgr.emit_message = [](j_common_ptr cinfo, int level) {
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) cinfo->err->error_exit(cinfo);
  };
  Image img;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    SC_FAIL(what, ": corrupt JPEG: ", err.message);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_RGB;  // grayscale and YCbCr both come out as RGB
  try {
    check_pixel_count(cinfo.image_height, cinfo.image_width, what);
  } catch (...) {
    jpeg_destroy_decompress(&cinfo);
    throw;
  }
  jpeg_start_decompress(&cinfo);
  img.height = static_cast<int>(cinfo.output_height);
  img.width = static_cast<int>(cinfo.output_width);
  img.pixels.resize(static_cast<size_t>(img.height) * img.width * 3);
  while (cinfo.output_scanline < cinfo.output_height) {
    unsigned char* row = img.pixels.data() + static_cast<size_t>(cinfo.output_scanline) * img.width * 3;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return img;
}

Image decode_png(const std::string& bytes, const std::string& what) {
  png_image pi{};
  pi.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&pi, bytes.data(), bytes.size()))
    SC_FAIL(what, ": corrupt PNG: ", pi.message);
  pi.format = PNG_FORMAT_RGB;
  try {
    check_pixel_count(pi.height, pi.width, what);
  } catch (...) {
    png_image_free(&pi);
    throw;
  }
  Image img;
  img.height = static_cast<int>(pi.height);
  img.width = static_cast<int>(pi.width);
  img.pixels.resize(PNG_IMAGE_SIZE(pi));
  if (!png_image_finish_read(&pi, nullptr, img.pixels.data(), 0, nullptr)) {
    const std::string msg = pi.message;
    png_image_free(&pi);
    SC_FAIL(what, ": corrupt PNG: ", msg);
  }
  return img;
}

// PIL's fixed-point precision for 8-bit resampling: 32 bits minus 8 for the value and 2 for headroom.
constexpr int kPrecisionBits = 32 - 8 - 2;

struct Coefficients {
  int ksize = 0;
  std::vector<int> bounds;   // per output: first input index, count
  std::vector<int32_t> k;    // per output: ksize fixed-point weights
};

// Triangle-filter weights for resampling `in` samples to `out`, widened by the scale when shrinking.
Coefficients precompute(int in, int out) {
  const double scale = static_cast<double>(in) / out;
  const double filterscale = std::max(scale, 1.0);
  const double support = 1.0 * filterscale;  // the bilinear filter's support is 1
  Coefficients c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.bounds.resize(2 * out);
  c.k.assign(static_cast<size_t>(out) * c.ksize, 0);
  std::vector<double> w(c.ksize);
  for (int xx = 0; xx < out; ++xx) {
    const double center = (xx + 0.5) * scale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in) xmax = in;
    xmax -= xmin;
    double ww = 0;
    for (int x = 0; x < xmax; ++x) {
      const double t = std::fabs((x + xmin - center + 0.5) / filterscale);
      w[x] = t < 1.0 ? 1.0 - t : 0.0;
      ww += w[x];
    }
    for (int x = 0; x < xmax; ++x) {
      const double v = ww != 0.0 ? w[x] / ww : w[x];
      c.k[static_cast<size_t>(xx) * c.ksize + x] =
          static_cast<int32_t>(v < 0 ? -0.5 + v * (1 << kPrecisionBits) : 0.5 + v * (1 << kPrecisionBits));
    }
    c.bounds[2 * xx] = xmin;
    c.bounds[2 * xx + 1] = xmax;
  }
  return c;
}

uint8_t clip8(int64_t v) {
  if (v >= (static_cast<int64_t>(1) << kPrecisionBits << 8)) return 255;
  if (v <= 0) return 0;
  return static_cast<uint8_t>(v >> kPrecisionBits);
}

}  // namespace

Image decode_image(const std::string& bytes, const std::string& what) {
  if (bytes.size() >= 3 && static_cast<uint8_t>(bytes[0]) == 0xff && static_cast<uint8_t>(bytes[1]) == 0xd8)
    return decode_jpeg(bytes, what);
  if (bytes.size() >= 8 && bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0) return decode_png(bytes, what);
  SC_FAIL(what, ": not a JPEG or PNG image");
}

Image read_image_file(const std::string& path) { return decode_image(read_file(path), "'" + path + "'"); }

void write_png(const std::string& path, const Image& img) {
  SC_CHECK(img.channels == 1 || img.channels == 3, "write_png: 1 or 3 channels, got ", img.channels);
  png_image pi{};
  pi.version = PNG_IMAGE_VERSION;
  pi.width = static_cast<png_uint_32>(img.width);
  pi.height = static_cast<png_uint_32>(img.height);
  pi.format = img.channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  png_alloc_size_t size = 0;
  SC_CHECK(png_image_write_to_memory(&pi, nullptr, &size, 0, img.pixels.data(), 0, nullptr), "write_png: ", pi.message);
  std::string out(size, '\0');
  SC_CHECK(png_image_write_to_memory(&pi, out.data(), &size, 0, img.pixels.data(), 0, nullptr), "write_png: ",
           pi.message);
  out.resize(size);
  write_file_atomic(path, out);
}

Image resize_bilinear_pil(const Image& in, int out_h, int out_w) {
  SC_CHECK(out_h > 0 && out_w > 0, "resize: output size must be positive");
  const int C = in.channels;
  Image cur = in;
  if (out_w != in.width) {  // horizontal pass
    const Coefficients c = precompute(in.width, out_w);
    Image h;
    h.height = cur.height, h.width = out_w, h.channels = C;
    h.pixels.resize(static_cast<size_t>(h.height) * out_w * C);
    for (int y = 0; y < cur.height; ++y)
      for (int xx = 0; xx < out_w; ++xx) {
        const int xmin = c.bounds[2 * xx], xmax = c.bounds[2 * xx + 1];
        const int32_t* k = &c.k[static_cast<size_t>(xx) * c.ksize];
        for (int ch = 0; ch < C; ++ch) {
          int64_t ss = 1 << (kPrecisionBits - 1);
          for (int x = 0; x < xmax; ++x)
            ss += static_cast<int64_t>(cur.pixels[(static_cast<size_t>(y) * cur.width + x + xmin) * C + ch]) * k[x];
          h.pixels[(static_cast<size_t>(y) * out_w + xx) * C + ch] = clip8(ss);
        }
      }
    cur = std::move(h);
  }
  if (out_h != in.height) {  // vertical pass
    const Coefficients c = precompute(in.height, out_h);
    Image v;
    v.height = out_h, v.width = cur.width, v.channels = C;
    v.pixels.resize(static_cast<size_t>(out_h) * cur.width * C);
    for (int yy = 0; yy < out_h; ++yy) {
      const int ymin = c.bounds[2 * yy], ymax = c.bounds[2 * yy + 1];
      const int32_t* k = &c.k[static_cast<size_t>(yy) * c.ksize];
      for (int x = 0; x < cur.width; ++x)
        for (int ch = 0; ch < C; ++ch) {
          int64_t ss = 1 << (kPrecisionBits - 1);
          for (int y = 0; y < ymax; ++y)
            ss += static_cast<int64_t>(cur.pixels[(static_cast<size_t>(y + ymin) * cur.width + x) * C + ch]) * k[y];
          v.pixels[(static_cast<size_t>(yy) * cur.width + x) * C + ch] = clip8(ss);
        }
    }
    cur = std::move(v);
  }
  return cur;
}

Image resize_center_crop(const Image& in, int short_side, int crop) {
  // torchvision: the shorter side becomes short_side, the longer int(short_side · long / short).
  int h = short_side, w = short_side;
  if (in.width < in.height)
    h = static_cast<int>(static_cast<int64_t>(short_side) * in.height / in.width);
  else if (in.height < in.width)
    w = static_cast<int>(static_cast<int64_t>(short_side) * in.width / in.height);
  const Image r = (h == in.height && w == in.width) ? in : resize_bilinear_pil(in, h, w);
  SC_CHECK(r.height >= crop && r.width >= crop, "center crop ", crop, " larger than the resized image ", r.height, "x",
           r.width);
  // Python's round() (ties to even) of the half margins, as torchvision.
  const int top = static_cast<int>(std::nearbyint((r.height - crop) / 2.0));
  const int left = static_cast<int>(std::nearbyint((r.width - crop) / 2.0));
  Image out;
  out.height = crop, out.width = crop, out.channels = r.channels;
  out.pixels.resize(static_cast<size_t>(crop) * crop * r.channels);
  for (int y = 0; y < crop; ++y)
    std::copy_n(&r.pixels[(static_cast<size_t>(y + top) * r.width + left) * r.channels],
                static_cast<size_t>(crop) * r.channels, &out.pixels[static_cast<size_t>(y) * crop * r.channels]);
  return out;
}

}  // namespace sc::io
