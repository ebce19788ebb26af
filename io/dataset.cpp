#include "io/dataset.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>

#include "io/file_util.h"
#include "io/idx.h"
#include "io/image.h"
#include "io/npy.h"
#include "nn/parse_number.h"
#include "weights_tools/pickle.h"

namespace sc::io {

namespace fs = std::filesystem;

Tensor Dataset::images(int64_t begin, int64_t end) const {
  SC_CHECK(0 <= begin && begin <= end && end <= size(), name(), ": images [", begin, ", ", end,
           ") out of range (", size(), " images)");
  Shape s = image_shape();
  const int64_t per = numel_of(s);
  s.insert(s.begin(), end - begin);
  Tensor t = Tensor::empty(s);
  float* p = t.data<float>();
#pragma omp parallel for schedule(static) if (end - begin > 16)
  for (int64_t i = begin; i < end; ++i) read_image(i, p + (i - begin) * per);
  return t;
}

Tensor Dataset::labels(int64_t begin, int64_t end) const {
  SC_CHECK(0 <= begin && begin <= end && end <= size(), name(), ": labels out of range");
  Tensor t = Tensor::empty({end - begin}, DType::I64);
  for (int64_t i = begin; i < end; ++i) t.data<int64_t>()[i - begin] = label(i);
  return t;
}

namespace {

std::string env_or(const char* var, const std::string& fallback) {
  const char* v = std::getenv(var);
  return v && *v ? v : fallback;
}

// MNIST-style idx pair: images [N, H, W] uint8, labels [N].
class IdxDataset : public Dataset {
 public:
  IdxDataset(std::string name, const std::string& dir, const std::string& split) : name_(std::move(name)) {
    SC_CHECK(split == "train" || split == "test", name_, ": split must be train or test, got '", split, "'");
    const std::string stem = split == "train" ? "train" : "t10k";
    images_ = read_idx(find(dir, stem + "-images-idx3-ubyte"));
    labels_ = read_idx(find(dir, stem + "-labels-idx1-ubyte"));
    SC_CHECK(images_.dims.size() == 3 && labels_.dims.size() == 1 && images_.dims[0] == labels_.dims[0], name_,
             ": image and label files in ", dir, " do not match");
    for (uint8_t l : labels_.data) SC_CHECK(l < 10, name_, ": label ", int(l), " out of range [0, 10)");
  }
  int64_t size() const override { return images_.dims[0]; }
  Shape image_shape() const override { return {1, images_.dims[1], images_.dims[2]}; }
  int64_t num_classes() const override { return 10; }
  int64_t label(int64_t i) const override { return labels_.data[static_cast<size_t>(i)]; }
  void read_image(int64_t i, float* out) const override {
    const int64_t n = images_.dims[1] * images_.dims[2];
    const uint8_t* p = images_.data.data() + i * n;
    for (int64_t k = 0; k < n; ++k) out[k] = static_cast<float>(p[k]) / 255.0f;
  }
  std::string name() const override { return name_; }

 private:
  static std::string find(const std::string& dir, const std::string& stem) {
    for (const std::string& f : {stem, stem + ".gz"})
      if (fs::exists(fs::path(dir) / f)) return (fs::path(dir) / f).string();
    SC_FAIL("missing dataset file ", (fs::path(dir) / stem).string(), "[.gz]");
  }
  std::string name_;
  IdxArray images_, labels_;
};

// Images from a .npy array: float32 NCHW as is; uint8 NCHW or NHWC (channels 1, 3 or 4 last) scaled by 1/255.
class NpyDataset : public Dataset {
 public:
  NpyDataset(const std::string& images, const std::string& labels) : path_(images) {
    images_ = read_npy(images);
    SC_CHECK(images_.dim() == 4, "'", images, "': images must be 4-D (NCHW or NHWC), got ", images_.describe());
    if (images_.dtype() == DType::U8) {
      // NHWC when the last axis looks like channels (1, 3 or 4) and the second does not.
      auto channel_like = [](int64_t n) { return n == 1 || n == 3 || n == 4; };
      const bool nhwc = channel_like(images_.size(3)) && !channel_like(images_.size(1));
      Tensor f = images_.astype(DType::F32);
      if (nhwc) f = f.permute({0, 3, 1, 2}).contiguous();
      float* p = f.data<float>();
      for (int64_t i = 0; i < f.numel(); ++i) p[i] /= 255.0f;
      images_ = f;
    } else {
      SC_CHECK(images_.dtype() == DType::F32, "'", images, "': images must be float32 or uint8, got ",
               dtype_name(images_.dtype()));
    }
    if (!labels.empty()) {
      Tensor l = read_npy(labels);
      SC_CHECK(l.dim() == 1 && l.size(0) == images_.size(0), "'", labels, "': labels must be [", images_.size(0),
               "], got ", l.describe());
      labels_ = l.astype(DType::I64);
      for (int64_t i = 0; i < labels_.numel(); ++i)
        num_classes_ = std::max(num_classes_, labels_.data<int64_t>()[i] + 1);
    }
  }
  int64_t size() const override { return images_.size(0); }
  Shape image_shape() const override { return {images_.size(1), images_.size(2), images_.size(3)}; }
  int64_t num_classes() const override { return num_classes_; }
  int64_t label(int64_t i) const override { return labels_.defined() ? labels_.data<int64_t>()[i] : -1; }
  void read_image(int64_t i, float* out) const override {
    const int64_t n = numel_of(image_shape());
    std::copy_n(images_.data<float>() + i * n, n, out);
  }
  std::string name() const override { return "npy:" + path_; }

 private:
  std::string path_;
  Tensor images_, labels_;
  int64_t num_classes_ = 10;
};

// Random images like torchvision's FakeData: every image and label is a fixed function of its index.
class FakeDataset : public Dataset {
 public:
  FakeDataset(int64_t n, Shape shape, bool gaussian) : n_(n), shape_(std::move(shape)), gaussian_(gaussian) {}
  int64_t size() const override { return n_; }
  Shape image_shape() const override { return shape_; }
  int64_t num_classes() const override { return 10; }
  int64_t label(int64_t i) const override { return static_cast<int64_t>(std::mt19937_64(i * 2 + 1)() % 10); }
  void read_image(int64_t i, float* out) const override {
    std::mt19937_64 rng(static_cast<uint64_t>(i) * 2);
    std::normal_distribution<float> normal(0.5f, 0.25f);
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    for (int64_t k = 0; k < numel_of(shape_); ++k)
      out[k] = gaussian_ ? std::min(1.0f, std::max(0.0f, normal(rng))) : uniform(rng);
  }
  std::string name() const override { return "fake"; }

 private:
  int64_t n_;
  Shape shape_;
  bool gaussian_;
};

// A binary in/out set for training and testing a detector of in-distribution inputs (ProoD's discriminator):
// the images of `in` (label 1) and `out` (label 0) in one fixed shuffled order, so that any selection
// (--skip, --max) holds both kinds in their proportion.
class InOutDataset : public Dataset {
 public:
  InOutDataset(std::unique_ptr<Dataset> in, std::unique_ptr<Dataset> out, std::string name)
      : in_(std::move(in)), out_(std::move(out)), name_(std::move(name)) {
    SC_CHECK(in_->image_shape() == out_->image_shape(), "dataset '", name_,
             "': the in-distribution images are ", shape_str(in_->image_shape()),
             ", the out-distribution ones ", shape_str(out_->image_shape()));
    order_.resize(static_cast<size_t>(size()));
    for (size_t i = 0; i < order_.size(); ++i) order_[i] = static_cast<int64_t>(i);
    std::mt19937_64 rng(0x1D0D5EEDull);  // a fixed order: the same set, the same images, on every machine
    for (size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng() % i]);
  }
  int64_t size() const override { return in_->size() + out_->size(); }
  Shape image_shape() const override { return in_->image_shape(); }
  int64_t num_classes() const override { return 2; }
  int64_t label(int64_t i) const override { return order_.at(static_cast<size_t>(i)) < in_->size() ? 1 : 0; }
  void read_image(int64_t i, float* out) const override {
    const int64_t k = order_.at(static_cast<size_t>(i));
    if (k < in_->size())
      in_->read_image(k, out);
    else
      out_->read_image(k - in_->size(), out);
  }
  std::string name() const override { return name_; }

 private:
  std::unique_ptr<Dataset> in_, out_;
  std::string name_;
  std::vector<int64_t> order_;  // position → index into in's images, then out's
};

// torchvision's ImageFolder: one folder per class (sorted names are the labels), images sorted by name within
// each; or, where `flat_unlabeled` allows it and there are no class folders, the images directly in the folder,
// unlabeled (label −1). Optionally resized (shorter side) and center-cropped, as torchvision's Resize +
// CenterCrop.
class FolderDataset : public Dataset {
 public:
  FolderDataset(const std::string& root, std::string name, bool flat_unlabeled, int resize = 0, int crop = 0)
      : name_(std::move(name)), resize_(resize), crop_(crop) {
    SC_CHECK(fs::is_directory(root), name_, ": image folder '", root, "' not found");
    std::vector<std::string> classes;
    for (const auto& e : fs::directory_iterator(root))
      if (e.is_directory()) classes.push_back(e.path().filename().string());
    std::sort(classes.begin(), classes.end());
    SC_CHECK(!classes.empty() || flat_unlabeled, name_, ": '", root, "' has no class folders");
    if (classes.empty()) {  // a flat folder of images: unlabeled (an out-of-distribution set, say)
      for (auto& f : image_files(root, false)) items_.emplace_back(std::move(f), -1);
      SC_CHECK(!items_.empty(), name_, ": '", root, "' has neither class folders nor .jpg/.jpeg/.png images");
    }
    for (size_t c = 0; c < classes.size(); ++c)
      for (auto& f : image_files(fs::path(root) / classes[c], true))
        items_.emplace_back(std::move(f), static_cast<int64_t>(c));
    SC_CHECK(!items_.empty(), name_, ": no .jpg/.jpeg/.png images under '", root, "'");
    num_classes_ = static_cast<int64_t>(classes.size());
    const Image first = load(0);
    shape_ = {3, first.height, first.width};
  }
  int64_t size() const override { return static_cast<int64_t>(items_.size()); }
  Shape image_shape() const override { return shape_; }
  int64_t num_classes() const override { return num_classes_; }
  int64_t label(int64_t i) const override { return items_[static_cast<size_t>(i)].second; }
  void read_image(int64_t i, float* out) const override {
    const Image img = load(i);
    SC_CHECK(img.height == shape_[1] && img.width == shape_[2], name_, ": image '", items_[static_cast<size_t>(i)].first,
             "' is ", img.height, "x", img.width, " but the first image is ", shape_[1], "x", shape_[2],
             " (images of a folder dataset must share one size)");
    const int64_t hw = static_cast<int64_t>(img.height) * img.width;
    for (int64_t p = 0; p < hw; ++p)
      for (int c = 0; c < 3; ++c) out[c * hw + p] = img.pixels[static_cast<size_t>(p) * 3 + c] / 255.0f;
  }
  std::string name() const override { return name_; }

 private:
  // The .jpg/.jpeg/.png files under `dir` (in its subfolders too when `recursive`), sorted by path.
  static std::vector<std::string> image_files(const fs::path& dir, bool recursive) {
    std::vector<std::string> files;
    auto add = [&files](const fs::directory_entry& e) {
      if (!e.is_regular_file()) return;
      std::string ext = e.path().extension().string();
      for (auto& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (ext == ".jpg" || ext == ".jpeg" || ext == ".png") files.push_back(e.path().string());
    };
    if (recursive)
      for (const auto& e : fs::recursive_directory_iterator(dir)) add(e);
    else
      for (const auto& e : fs::directory_iterator(dir)) add(e);
    std::sort(files.begin(), files.end());
    return files;
  }
  Image load(int64_t i) const {
    Image img = read_image_file(items_[static_cast<size_t>(i)].first);
    return resize_ > 0 ? resize_center_crop(img, resize_, crop_) : img;
  }
  std::string name_;
  int resize_, crop_;
  std::vector<std::pair<std::string, int64_t>> items_;
  int64_t num_classes_ = 0;
  Shape shape_;
};

// CIFAR-10/100 in the official binary layout (cifar-10-batches-bin: label byte + 3072 pixel bytes per record;
// CIFAR-100: coarse and fine label bytes) or the python layout (cifar-10-batches-py: pickled dicts with 'data'
// [N, 3072] uint8 and 'labels' / 'fine_labels'), read with the safe unpickler.
class CifarDataset : public Dataset {
 public:
  CifarDataset(const std::string& root, bool cifar100, const std::string& split) : cifar100_(cifar100) {
    name_ = cifar100 ? "cifar100" : "cifar10";
    SC_CHECK(split == "train" || split == "test", name_, ": split must be train or test, got '", split, "'");
    const std::string bin = (fs::path(root) / (cifar100 ? "cifar-100-binary" : "cifar-10-batches-bin")).string();
    const std::string py = (fs::path(root) / (cifar100 ? "cifar-100-python" : "cifar-10-batches-py")).string();
    std::vector<std::string> parts;
    if (fs::is_directory(bin)) {
      if (cifar100)
        parts = {split == "train" ? "train.bin" : "test.bin"};
      else if (split == "train")
        parts = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"};
      else
        parts = {"test_batch.bin"};
      for (const auto& p : parts) read_binary((fs::path(bin) / p).string());
    } else if (fs::is_directory(py)) {
      if (cifar100)
        parts = {split};
      else if (split == "train")
        parts = {"data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"};
      else
        parts = {"test_batch"};
      for (const auto& p : parts) read_python((fs::path(py) / p).string());
    } else {
      SC_FAIL(name_, ": neither ", bin, " nor ", py, " exists (give the folder holding them with --data-dir or "
              "$SMOOTHCUDA_DATA)");
    }
  }
  int64_t size() const override { return static_cast<int64_t>(labels_.size()); }
  Shape image_shape() const override { return {3, 32, 32}; }
  int64_t num_classes() const override { return cifar100_ ? 100 : 10; }
  int64_t label(int64_t i) const override { return labels_[static_cast<size_t>(i)]; }
  void read_image(int64_t i, float* out) const override {
    const uint8_t* p = pixels_.data() + static_cast<size_t>(i) * 3072;
    for (int k = 0; k < 3072; ++k) out[k] = p[k] / 255.0f;
  }
  std::string name() const override { return name_; }

 private:
  void read_binary(const std::string& path) {
    const std::string b = read_file(path);
    const size_t rec = cifar100_ ? 3074 : 3073;
    SC_CHECK(!b.empty() && b.size() % rec == 0, "'", path, "': ", b.size(), " bytes is not a whole number of ", rec,
             "-byte CIFAR records (truncated?)");
    for (size_t r = 0; r < b.size() / rec; ++r) {
      const size_t at = r * rec;
      const int64_t label = static_cast<uint8_t>(b[at + (cifar100_ ? 1 : 0)]);
      SC_CHECK(label < num_classes(), "'", path, "': record ", r, " has label ", label);
      labels_.push_back(label);
      pixels_.insert(pixels_.end(), b.begin() + static_cast<std::ptrdiff_t>(at + rec - 3072),
                     b.begin() + static_cast<std::ptrdiff_t>(at + rec));
    }
  }
  void read_python(const std::string& path) {
    const std::string what = "'" + path + "'";
    const std::string b = read_file(path);
    const auto root = pickle::load(b, 0, nullptr, what).value;
    const pickle::Value* data = root->get("data");
    const pickle::Value* labels = root->get(cifar100_ ? "fine_labels" : "labels");
    SC_CHECK(data && labels && data->kind == pickle::Value::Kind::NDArray && labels->kind == pickle::Value::Kind::List,
             what, ": not a CIFAR python batch (needs 'data' array and '", cifar100_ ? "fine_labels" : "labels", "')");
    SC_CHECK(data->array_type == "u1" && data->array_shape.size() == 2 && data->array_shape[1] == 3072 &&
                 static_cast<int64_t>(data->text.size()) == data->array_shape[0] * 3072 &&
                 data->array_shape[0] == static_cast<int64_t>(labels->items.size()),
             what, ": CIFAR 'data' must be uint8 [N, 3072] with N labels");
    for (const auto& l : labels->items) {
      SC_CHECK(l->kind == pickle::Value::Kind::Int && l->integer >= 0 && l->integer < num_classes(), what,
               ": bad label");
      labels_.push_back(l->integer);
    }
    pixels_.insert(pixels_.end(), data->text.begin(), data->text.end());
  }
  bool cifar100_;
  std::string name_;
  std::vector<int64_t> labels_;
  std::vector<uint8_t> pixels_;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep)) out.push_back(item);
  return out;
}

int64_t parse_positive(const std::string& s, const std::string& spec) {
  const auto v = parse_int64(s);
  SC_CHECK(v && *v > 0, "dataset '", spec, "': '", s, "' is not a positive integer");
  return *v;
}

}  // namespace

std::unique_ptr<Dataset> open_dataset(const std::string& spec, const DatasetOptions& o) {
  const std::string root = o.data_dir.empty() ? env_or("SMOOTHCUDA_DATA", "") : o.data_dir;
  if (spec == "mnist" || spec == "fashion-mnist") {
    std::vector<std::string> dirs;
    if (!root.empty()) dirs = {(fs::path(root) / spec).string(), root};
    if (spec == "fashion-mnist") dirs.push_back("/usr/share/datasets/fashion-mnist");
    SC_CHECK(!dirs.empty(), "dataset mnist: give its folder with --data-dir or SMOOTHCUDA_DATA");
    for (const auto& d : dirs)
      if (fs::exists(fs::path(d) / (o.split == "train" ? "train-labels-idx1-ubyte.gz" : "t10k-labels-idx1-ubyte.gz")) ||
          fs::exists(fs::path(d) / (o.split == "train" ? "train-labels-idx1-ubyte" : "t10k-labels-idx1-ubyte")))
        return std::make_unique<IdxDataset>(spec, d, o.split);
    std::string tried;
    for (const auto& d : dirs) tried += (tried.empty() ? "" : ", ") + d;
    SC_FAIL("dataset ", spec, " (", o.split, " split) not found; looked in: ", tried,
            spec == "fashion-mnist" ? " (apt-get install dataset-fashion-mnist)" : "");
  }
  if (spec == "cifar10" || spec == "cifar100") {
    std::vector<std::string> roots;
    if (!root.empty()) roots = {(fs::path(root) / spec).string(), root};
    SC_CHECK(!roots.empty(), "dataset ", spec, ": give the folder holding cifar-10-batches-bin (or -py) with --data-dir or "
             "SMOOTHCUDA_DATA");
    for (const auto& r : roots)
      for (const char* sub : {"cifar-10-batches-bin", "cifar-10-batches-py", "cifar-100-binary", "cifar-100-python"})
        if (fs::is_directory(fs::path(r) / sub)) return std::make_unique<CifarDataset>(r, spec == "cifar100", o.split);
    SC_FAIL("dataset ", spec, " not found under ", roots.front(), " (expected cifar-10-batches-bin or -py)");
  }
  if (spec == "imagenet") {
    const std::string dir = env_or("IMAGENET_DIR", root.empty() ? "" : (fs::path(root) / "imagenet").string());
    SC_CHECK(!dir.empty(), "dataset imagenet: set IMAGENET_DIR (as Cohen's scripts) or --data-dir");
    // Cohen et al. evaluate on the val split with Resize(256) + CenterCrop(224).
    return std::make_unique<FolderDataset>((fs::path(dir) / (o.split == "test" ? "val" : "train")).string(),
                                           "imagenet", false, 256, 224);
  }
  if (spec.rfind("inout:", 0) == 0) {
    const size_t plus = spec.find('+');
    SC_CHECK(plus != std::string::npos && plus > 6 && plus + 1 < spec.size(), "dataset '", spec,
             "': expected inout:IN_DATASET+OUT_DATASET");
    const std::string in = spec.substr(6, plus - 6), out = spec.substr(plus + 1);
    SC_CHECK(in.rfind("inout:", 0) != 0 && out.rfind("inout:", 0) != 0, "dataset '", spec,
             "': an inout: set cannot hold another");
    return std::make_unique<InOutDataset>(open_dataset(in, o), open_dataset(out, o), spec);
  }
  if (spec.rfind("folder:", 0) == 0) return std::make_unique<FolderDataset>(spec.substr(7), spec, true);
  if (spec.rfind("npy:", 0) == 0) {
    const auto parts = split(spec.substr(4), ':');
    SC_CHECK(parts.size() == 1 || parts.size() == 2, "dataset '", spec, "': expected npy:IMAGES.npy[:LABELS.npy]");
    return std::make_unique<NpyDataset>(parts[0], parts.size() == 2 ? parts[1] : "");
  }
  if (spec.rfind("fake:", 0) == 0) {
    const auto p = split(spec.substr(5), ':');
    SC_CHECK(p.size() == 4 || p.size() == 5, "dataset '", spec, "': expected fake:N:C:H:W[:gaussian|uniform]");
    SC_CHECK(p.size() == 4 || p[4] == "gaussian" || p[4] == "uniform", "dataset '", spec,
             "': noise must be gaussian or uniform");
    return std::make_unique<FakeDataset>(parse_positive(p[0], spec),
                                         Shape{parse_positive(p[1], spec), parse_positive(p[2], spec),
                                               parse_positive(p[3], spec)},
                                         p.size() == 4 || p[4] == "gaussian");
  }
  SC_FAIL("unknown dataset '", spec,
          "' (known: cifar10, cifar100, imagenet, mnist, fashion-mnist, folder:PATH, "
          "npy:IMAGES.npy[:LABELS.npy], fake:N:C:H:W, inout:IN+OUT)");
}

Tensor read_batch(const Dataset& data, const std::vector<int64_t>& indices, int64_t b0, int64_t b1) {
  const Shape img = data.image_shape();
  const int64_t per = numel_of(img);
  Tensor x = Tensor::empty({b1 - b0, img[0], img[1], img[2]});
  for (int64_t k = b0; k < b1; ++k)
    data.read_image(indices[static_cast<size_t>(k)], x.data<float>() + (k - b0) * per);
  return x;
}

}  // namespace sc::io
