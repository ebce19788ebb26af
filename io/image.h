// Image files: JPEG (libjpeg) and PNG (libpng) decoded to 8-bit RGB (grayscale and palette images converted, as
// PIL's convert("RGB") does), PNG encoding for the tools' outputs, and PIL-compatible resizing.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sc::io {

struct Image {
  int height = 0, width = 0, channels = 3;
  std::vector<uint8_t> pixels;  // HWC, row-major
};

// Decodes JPEG or PNG bytes (by their magic number) into RGB; `what` names the source in errors.
Image decode_image(const std::string& bytes, const std::string& what);
Image read_image_file(const std::string& path);
// Writes an 8-bit image (1 or 3 channels) as PNG, atomically.
void write_png(const std::string& path, const Image& image);

// Resizes like PIL's Image.resize(size, Image.BILINEAR) on 8-bit images (antialiased: the triangle filter is
// widened by the scale factor when shrinking; fixed-point coefficients; horizontal pass, then vertical).
Image resize_bilinear_pil(const Image& in, int out_height, int out_width);
// torchvision's Resize(short_side) then CenterCrop(crop) on a PIL image.
Image resize_center_crop(const Image& in, int short_side, int crop);

}  // namespace sc::io
