// Dataset readers on real and generated files.

#include <filesystem>
#include <fstream>

#include "io/dataset.h"
#include "io/idx.h"
#include "io/npy.h"
#include "test_util.h"

namespace sc::test {
namespace {

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string idx_bytes(std::vector<uint32_t> dims, const std::vector<uint8_t>& data) {
  std::string b = {0, 0, 8, static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int k = 3; k >= 0; --k) b += static_cast<char>((d >> (8 * k)) & 0xff);
  return b + std::string(data.begin(), data.end());
}

std::string gzip(const std::string& raw) {
  return deflate_bytes(raw, true);
}

TEST(Datasets, FashionMnistFromDebian) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"))
    GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed";
  auto d = io::open_dataset("fashion-mnist");
  EXPECT_EQ(d->size(), 10000);
  EXPECT_EQ(d->image_shape(), (Shape{1, 28, 28}));
  // The first test item of Fashion-MNIST is an ankle boot (class 9), the second a pullover (2).
  EXPECT_EQ(d->label(0), 9);
  EXPECT_EQ(d->label(1), 2);
  const Tensor x = d->images(0, 2);
  float lo = 1, hi = 0;
  for (float v : x.to_float_vector()) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_EQ(lo, 0.0f);
  EXPECT_EQ(hi, 1.0f);
  EXPECT_EQ(io::open_dataset("fashion-mnist", {"train", ""})->size(), 60000);
}

TEST(Datasets, MnistFromShared) {
  const std::string dir = shared_dir() + "/data";
  if (!std::filesystem::exists(dir + "/mnist/t10k-images-idx3-ubyte.gz")) GTEST_SKIP() << "no " << dir << "/mnist";
  auto d = io::open_dataset("mnist", {"test", dir});
  EXPECT_EQ(d->size(), 10000);
  EXPECT_EQ(d->label(0), 7);  // the famous first MNIST test digit
  EXPECT_ERROR_MENTIONS(io::open_dataset("mnist", {"train", dir}), "mnist", "train", "not found");
}

TEST(Datasets, IdxPlainGzippedAndCorrupt) {
  const std::string dir = temp_path("idx");
  std::filesystem::create_directories(dir);
  std::vector<uint8_t> pixels(3 * 2 * 4);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 10 + 1);
  write_bytes(dir + "/t10k-images-idx3-ubyte", idx_bytes({3, 2, 4}, pixels));
  write_bytes(dir + "/t10k-labels-idx1-ubyte.gz", gzip(idx_bytes({3}, {4, 0, 9})));
  auto d = io::open_dataset("mnist", {"test", dir});
  EXPECT_EQ(d->size(), 3);
  EXPECT_EQ(d->label(2), 9);
  std::vector<float> img(8);
  d->read_image(1, img.data());
  EXPECT_FLOAT_EQ(img[0], 81.0f / 255.0f);
  write_bytes(dir + "/t10k-labels-idx1-ubyte.gz", gzip(idx_bytes({3}, {4, 0, 9})).substr(0, 20));
  EXPECT_ERROR_MENTIONS(io::open_dataset("mnist", {"test", dir}), "gzip");
  write_bytes(dir + "/t10k-labels-idx1-ubyte.gz", gzip(idx_bytes({4}, {4, 0, 9})));
  EXPECT_ERROR_MENTIONS(io::open_dataset("mnist", {"test", dir}), "truncated");
  write_bytes(dir + "/t10k-labels-idx1-ubyte.gz", gzip(idx_bytes({3}, {4, 10, 9})));
  EXPECT_ERROR_MENTIONS(io::open_dataset("mnist", {"test", dir}), "label 10");
  EXPECT_ERROR_MENTIONS(io::open_dataset("mnist", {"validation", dir}), "split");
}

TEST(Datasets, NpyUint8NhwcAndFloatNchw) {
  Tensor u8 = Tensor::empty({2, 5, 4, 3}, DType::U8);  // NHWC: 5×4 images, 3 channels
  for (int64_t i = 0; i < u8.numel(); ++i) u8.data<uint8_t>()[i] = static_cast<uint8_t>(i * 3);
  const std::string ip = temp_path("img_u8.npy"), lp = temp_path("lab.npy");
  io::write_npy(ip, u8);
  io::write_npy(lp, Tensor::from_vector<int64_t>({5, 1}, {2}));
  auto d = io::open_dataset("npy:" + ip + ":" + lp);
  EXPECT_EQ(d->image_shape(), (Shape{3, 5, 4}));
  EXPECT_EQ(d->label(0), 5);
  const Tensor x = d->images(1, 2);
  // NCHW element (c=2, h=1, w=3) of image 1 comes from NHWC offset ((1·5 + 1)·4 + 3)·3 + 2 = 83.
  EXPECT_FLOAT_EQ(x.data<float>()[(2 * 5 + 1) * 4 + 3], static_cast<float>(83 * 3 % 256) / 255.0f);
  Tensor f = randn({4, 1, 5, 5}, 3);
  io::write_npy(ip, f);
  auto g = io::open_dataset("npy:" + ip);
  EXPECT_TRUE(allclose(g->images(0, 4), f, 0));
  EXPECT_EQ(g->label(0), -1);
  io::write_npy(lp, Tensor::from_vector<int64_t>({5, 1, 2}, {3}));
  EXPECT_ERROR_MENTIONS(io::open_dataset("npy:" + ip + ":" + lp), "labels must be [4]");
}

TEST(Datasets, FakeIsDeterministicAndBounded) {
  auto d = io::open_dataset("fake:5:3:8:8:uniform");
  auto e = io::open_dataset("fake:5:3:8:8:uniform");
  EXPECT_TRUE(allclose(d->images(0, 5), e->images(0, 5), 0));
  for (float v : io::open_dataset("fake:5:3:8:8")->images(0, 5).to_float_vector()) {
    EXPECT_GE(v, 0.0f);
    EXPECT_LE(v, 1.0f);
  }
  EXPECT_ERROR_MENTIONS(io::open_dataset("fake:5:3:8"), "fake:N:C:H:W");
  EXPECT_ERROR_MENTIONS(io::open_dataset("fake:0:3:8:8"), "positive");
  EXPECT_ERROR_MENTIONS(io::open_dataset("imagenet21k"), "unknown dataset");
  EXPECT_ERROR_MENTIONS(d->images(3, 9), "out of range");
}

// inout:IN+OUT holds every image of IN (label 1) and of OUT (label 0) once, in a fixed shuffled order.
TEST(Datasets, InOutHoldsEveryImageOnceInAFixedOrder) {
  const std::string spec = "inout:fake:5:3:8:8:gaussian+fake:4:3:8:8:uniform";
  auto d = io::open_dataset(spec), again = io::open_dataset(spec);
  auto in = io::open_dataset("fake:5:3:8:8:gaussian"), out = io::open_dataset("fake:4:3:8:8:uniform");
  ASSERT_EQ(d->size(), 9);
  EXPECT_EQ(d->num_classes(), 2);
  EXPECT_EQ(d->image_shape(), (Shape{3, 8, 8}));
  EXPECT_TRUE(identical(d->images(0, 9), again->images(0, 9)));
  std::vector<int> seen_in(5, 0), seen_out(4, 0);
  bool shuffled = false;
  for (int64_t i = 0; i < 9; ++i) {
    SCOPED_TRACE(i);
    const Tensor image = d->images(i, i + 1);
    const bool is_in = d->label(i) == 1;
    EXPECT_EQ(d->label(i), again->label(i));
    std::vector<int>& seen = is_in ? seen_in : seen_out;
    int found = 0;
    for (int64_t k = 0; k < static_cast<int64_t>(seen.size()); ++k)
      if (identical(image, (is_in ? in : out)->images(k, k + 1))) ++seen[static_cast<size_t>(k)], ++found;
    EXPECT_EQ(found, 1);
    shuffled = shuffled || (is_in != (i < 5));
  }
  for (int c : seen_in) EXPECT_EQ(c, 1);
  for (int c : seen_out) EXPECT_EQ(c, 1);
  EXPECT_TRUE(shuffled);
  EXPECT_ERROR_MENTIONS(io::open_dataset("inout:fake:5:3:8:8+fake:2:3:9:9"), "[3, 8, 8]", "[3, 9, 9]");
  EXPECT_ERROR_MENTIONS(io::open_dataset("inout:fake:5:3:8:8"), "inout:IN_DATASET+OUT_DATASET");
  EXPECT_ERROR_MENTIONS(io::open_dataset("inout:+fake:5:3:8:8"), "inout:IN_DATASET+OUT_DATASET");
  EXPECT_ERROR_MENTIONS(io::open_dataset("inout:fake:5:3:8:8+inout:fake:1:3:8:8+fake:1:3:8:8"),
                        "cannot hold another");
}

}  // namespace
}  // namespace sc::test
