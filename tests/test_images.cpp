// Image decoding and PIL-compatible resizing against PIL's own output; the CIFAR readers.
#include <cmath>
#include <filesystem>

#include "io/dataset.h"
#include "io/file_util.h"
#include "io/image.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace sc::test {
namespace {

io::Image from_tensor(const Tensor& t) {  // uint8 [H, W, 3]
  io::Image img;
  img.height = static_cast<int>(t.size(0));
  img.width = static_cast<int>(t.size(1));
  img.channels = static_cast<int>(t.size(2));
  img.pixels.assign(t.data<uint8_t>(), t.data<uint8_t>() + t.numel());
  return img;
}

const io::Safetensors& reference() {
  static const io::Safetensors r = io::read_safetensors(fixture_dir() + "/images/reference.safetensors");
  return r;
}

void expect_same_pixels(const io::Image& a, const Tensor& expected, const std::string& what) {
  ASSERT_EQ(a.height, expected.size(0)) << what;
  ASSERT_EQ(a.width, expected.size(1)) << what;
  int64_t differ = 0;
  for (int64_t i = 0; i < expected.numel(); ++i) differ += a.pixels[static_cast<size_t>(i)] != expected.data<uint8_t>()[i];
  EXPECT_EQ(differ, 0) << what << ": " << differ << " of " << expected.numel() << " values differ from PIL";
}

TEST(Images, DecodeLikePil) {
  const io::Image jpg = io::read_image_file(fixture_dir() + "/images/smooth_37x23.jpg");
  expect_same_pixels(jpg, reference().at("smooth_jpg_pil"), "JPEG");
  const io::Image png = io::read_image_file(fixture_dir() + "/images/smooth_37x23.png");
  expect_same_pixels(png, reference().at("smooth"), "PNG");
  const io::Image gray = io::read_image_file(fixture_dir() + "/images/gray_37x23.png");
  ASSERT_EQ(gray.channels, 3);
  for (size_t p = 0; p < gray.pixels.size(); p += 3) {  // gray replicated into R, G, B
    EXPECT_EQ(gray.pixels[p], gray.pixels[p + 1]);
    EXPECT_EQ(gray.pixels[p], reference().at("smooth").data<uint8_t>()[p]);
  }
}

TEST(Images, ResizeBilinearMatchesPil) {
  const io::Image noisy = from_tensor(reference().at("noisy"));
  for (const auto& [name, t] : reference().tensors) {
    if (name.rfind("noisy_resized_", 0) != 0) continue;
    expect_same_pixels(io::resize_bilinear_pil(noisy, static_cast<int>(t.size(0)), static_cast<int>(t.size(1))), t,
                       name);
  }
  expect_same_pixels(io::resize_center_crop(from_tensor(reference().at("big")), 256, 224),
                     reference().at("big_resize256_crop224"), "Resize(256)+CenterCrop(224)");
}

TEST(Images, PngRoundTripAndCorruptFiles) {
  const io::Image noisy = from_tensor(reference().at("noisy"));
  const std::string p = temp_path("rt.png");
  io::write_png(p, noisy);
  EXPECT_EQ(io::read_image_file(p).pixels, noisy.pixels);
  const std::string jpg = io::read_file(fixture_dir() + "/images/smooth_37x23.jpg");
  EXPECT_ERROR_MENTIONS(io::decode_image(jpg.substr(0, jpg.size() / 3), "cut.jpg"), "cut.jpg", "JPEG");
  // Cut inside the entropy-coded data: libjpeg would fill the missing rows with gray, PIL refuses the file.
  for (size_t keep : {jpg.size() * 2 / 3, jpg.size() - 8})
    EXPECT_ERROR_MENTIONS(io::decode_image(jpg.substr(0, keep), "cut.jpg"), "cut.jpg", "Premature end");
  // A header announcing 60000 × 60000 pixels is refused before 10 GB are allocated for them.
  std::string bomb = jpg;
  const size_t sof = bomb.find("\xff\xc0");
  ASSERT_NE(sof, std::string::npos);
  for (size_t at : {sof + 5, sof + 7}) bomb[at] = '\xea', bomb[at + 1] = '\x60';
  EXPECT_ERROR_MENTIONS(io::decode_image(bomb, "bomb.jpg"), "bomb.jpg", "60000x60000", "decompression-bomb");
  EXPECT_ERROR_MENTIONS(io::decode_image("GIF89a....", "x.gif"), "not a JPEG or PNG");
  const std::string png = io::read_file(p);
  EXPECT_ERROR_MENTIONS(io::decode_image(png.substr(0, png.size() / 2), "cut.png"), "cut.png", "PNG");
}

TEST(Datasets, CifarBinaryAndPythonLayouts) {
  const io::Safetensors expected = io::read_safetensors(fixture_dir() + "/cifar/expected.safetensors");
  const Tensor images = expected.at("images").astype(DType::F32);
  const std::string src = fixture_dir() + "/cifar";
  for (const char* layout : {"cifar-10-batches-bin", "cifar-10-batches-py"}) {
    SCOPED_TRACE(layout);
    const std::string root = temp_path(std::string("cifar_") + layout);
    std::filesystem::create_directories(root);
    std::filesystem::copy(src + "/" + layout, root + "/" + layout);
    auto d = io::open_dataset("cifar10", {"test", root});
    ASSERT_EQ(d->size(), 7);
    EXPECT_EQ(d->label(5), 9);
    const Tensor x = d->images(0, 7);
    std::vector<float> scaled = x.to_float_vector();
    for (float& v : scaled) v = std::round(v * 255.0f);
    EXPECT_TRUE(allclose(Tensor::from_vector(scaled, x.shape()), images, 0));
    EXPECT_ERROR_MENTIONS(io::open_dataset("cifar10", {"train", root}), "data_batch_1");
  }
}

TEST(Datasets, Cifar100BinaryUsesFineLabels) {
  const std::string root = temp_path("cifar100");
  std::filesystem::create_directories(root + "/cifar-100-binary");
  std::string records;
  for (int r = 0; r < 3; ++r) {
    records += static_cast<char>(r);           // coarse label
    records += static_cast<char>(90 + r);      // fine label
    records += std::string(3072, static_cast<char>(10 * r + 1));
  }
  io::write_file_atomic(root + "/cifar-100-binary/test.bin", records);
  auto d = io::open_dataset("cifar100", {"test", root});
  EXPECT_EQ(d->size(), 3);
  EXPECT_EQ(d->num_classes(), 100);
  EXPECT_EQ(d->label(2), 92);
  EXPECT_FLOAT_EQ(d->images(2, 3).data<float>()[100], 21.0f / 255.0f);
  io::write_file_atomic(root + "/cifar-100-binary/test.bin", records.substr(0, 5000));
  EXPECT_ERROR_MENTIONS(io::open_dataset("cifar100", {"test", root}), "truncated");
}

TEST(Datasets, ImagenetFolderResizesAndCrops) {
  const std::string root = temp_path("imagenet");
  for (const char* cls : {"n01440764", "n01443537"}) std::filesystem::create_directories(root + "/val/" + cls);
  io::write_png(root + "/val/n01443537/b.png", from_tensor(reference().at("big")));
  io::write_png(root + "/val/n01440764/a.png", from_tensor(reference().at("big")));
  setenv("IMAGENET_DIR", root.c_str(), 1);
  auto d = io::open_dataset("imagenet");
  unsetenv("IMAGENET_DIR");
  ASSERT_EQ(d->size(), 2);
  EXPECT_EQ(d->image_shape(), (Shape{3, 224, 224}));
  EXPECT_EQ(d->label(0), 0);
  EXPECT_EQ(d->label(1), 1);
  const Tensor x = d->images(1, 2);  // CHW floats of PIL's Resize(256) + CenterCrop(224)
  const Tensor& ref = reference().at("big_resize256_crop224");
  int64_t differ = 0;
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t p = 0; p < 224 * 224; ++p)
      differ += std::lround(x.data<float>()[c * 224 * 224 + p] * 255.0f) != ref.data<uint8_t>()[p * 3 + c];
  EXPECT_EQ(differ, 0);
}

TEST(Datasets, FolderWithoutClassFoldersIsUnlabeled) {
  const std::string root = temp_path("flat");
  std::filesystem::create_directories(root);
  io::Image img{2, 3, 3, {}};
  for (int i = 0; i < 18; ++i) img.pixels.push_back(static_cast<uint8_t>(10 * i + 5));
  io::write_png(root + "/b.png", img);
  img.pixels[0] = 255;
  io::write_png(root + "/a.PNG", img);
  io::write_file_atomic(root + "/notes.txt", "not an image");
  auto d = io::open_dataset("folder:" + root);
  ASSERT_EQ(d->size(), 2);
  EXPECT_EQ(d->image_shape(), (Shape{3, 2, 3}));
  EXPECT_EQ(d->label(0), -1);
  EXPECT_EQ(d->label(1), -1);
  const Tensor x = d->images(0, 2);  // sorted by name: a.PNG first
  EXPECT_FLOAT_EQ(x.data<float>()[0], 1.0f);
  EXPECT_FLOAT_EQ(x.data<float>()[18], 5.0f / 255.0f);
  EXPECT_FLOAT_EQ(x.data<float>()[18 + 6 + 1], 45.0f / 255.0f);  // channel 1 of pixel 1: byte 3·1 + 1 = 4
  std::filesystem::remove(root + "/a.PNG");
  std::filesystem::remove(root + "/b.png");
  EXPECT_ERROR_MENTIONS(io::open_dataset("folder:" + root), "neither class folders nor");
  // ImageNet's val images come flat from the archive, but its labels are the class folders: no silent -1s.
  std::filesystem::create_directories(root + "/val");
  io::write_png(root + "/val/ILSVRC2012_val_00000001.png", img);
  setenv("IMAGENET_DIR", root.c_str(), 1);
  EXPECT_ERROR_MENTIONS(io::open_dataset("imagenet"), "has no class folders");
  unsetenv("IMAGENET_DIR");
}

}  // namespace
}  // namespace sc::test
