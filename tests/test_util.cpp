#include "test_util.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>

#include "io/safetensors.h"
#include "nn/memory.h"
#include "nn/models/random_init.h"
#include "nn/state_dict.h"
#include "weights_tools/torch_checkpoint.h"

namespace sc::test {

std::string fixture_dir() {
  // SMOOTHCUDA_FIXTURES: for test binaries run from another checkout (a GPU machine's copy of the tree).
  const char* env = std::getenv("SMOOTHCUDA_FIXTURES");
  return env && *env ? env : SC_FIXTURE_DIR;
}

std::string shared_dir() {
  const char* env = std::getenv("SMOOTHCUDA_SHARED");
  return env && *env ? env : SC_SHARED_DIR;
}

std::string temp_path(const std::string& name) {
  // One folder per test, so that tests running in parallel (ctest -j) never share a scratch file.
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string test = info ? std::string(info->test_suite_name()) + "." + info->name() : "global";
  std::string safe;
  for (char c : test) safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '.') ? c : '_';
  const std::filesystem::path dir = std::filesystem::path(SC_BINARY_DIR) / "test_scratch" / safe;
  std::filesystem::create_directories(dir);
  const std::filesystem::path p = dir / name;
  std::filesystem::remove_all(p);
  return p.string();
}

const Tensor& FixtureCase::at(const std::string& key) const {
  auto it = tensors.find(key);
  SC_CHECK(it != tensors.end(), "fixture case ", name, " has no tensor ", key);
  return it->second;
}

Tensor FixtureCase::get(const std::string& key) const {
  auto it = tensors.find(key);
  return it == tensors.end() ? Tensor() : it->second;
}

int64_t FixtureCase::int_param(const std::string& key) const {
  const json::Value* v = params.find(key);
  SC_CHECK(v != nullptr, "fixture case ", name, " has no parameter ", key);
  return v->as_int();
}

std::vector<int64_t> FixtureCase::ints_param(const std::string& key) const {
  const json::Value* v = params.find(key);
  SC_CHECK(v != nullptr, "fixture case ", name, " has no parameter ", key);
  std::vector<int64_t> out;
  for (const auto& i : v->items) out.push_back(i.as_int());
  return out;
}

double FixtureCase::number_param(const std::string& key) const {
  const json::Value* v = params.find(key);
  SC_CHECK(v != nullptr, "fixture case ", name, " has no parameter ", key);
  return v->number;
}

std::string FixtureCase::string_param(const std::string& key) const {
  const json::Value* v = params.find(key);
  SC_CHECK(v != nullptr, "fixture case ", name, " has no parameter ", key);
  return v->text;
}

bool FixtureCase::bool_param(const std::string& key) const {
  const json::Value* v = params.find(key);
  SC_CHECK(v != nullptr && v->kind == json::Value::Kind::Bool, "fixture case ", name,
           " has no boolean parameter ", key);
  return v->boolean;
}

std::vector<FixtureCase> load_fixture(const std::string& op) {
  const io::Safetensors st = io::read_safetensors(fixture_dir() + "/ops/" + op + ".safetensors");
  std::vector<FixtureCase> cases;
  for (const auto& [name, params] : st.metadata) {
    FixtureCase c;
    c.name = name;
    c.params = json::parse(params, "fixture " + op + "/" + name);
    const std::string prefix = name + ".";
    for (const auto& [key, t] : st.tensors)
      if (key.rfind(prefix, 0) == 0) c.tensors[key.substr(prefix.size())] = t;
    cases.push_back(std::move(c));
  }
  SC_CHECK(!cases.empty(), "fixture ", op, " holds no cases");
  return cases;
}

// ‖a − e‖₂ / ‖e‖₂ in double.
double relative_l2_error(const Tensor& a, const Tensor& e) {
  EXPECT_EQ(a.shape(), e.shape());
  const std::vector<float> av = a.to_float_vector(), ev = e.to_float_vector();
  double diff = 0, norm = 0;
  for (size_t i = 0; i < av.size() && i < ev.size(); ++i) {
    diff += (static_cast<double>(av[i]) - ev[i]) * (static_cast<double>(av[i]) - ev[i]);
    norm += static_cast<double>(ev[i]) * ev[i];
  }
  return std::sqrt(diff / norm);
}

::testing::AssertionResult allclose(const Tensor& actual, const Tensor& expected, double rtol) {
  if (!actual.defined() || !expected.defined()) return ::testing::AssertionFailure() << "undefined tensor";
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure()
           << "shape " << shape_str(actual.shape()) << " vs expected " << shape_str(expected.shape());
  if (expected.dtype() == DType::I64 || expected.dtype() == DType::I32 || expected.dtype() == DType::U8) {
    const Tensor a = actual.astype(DType::I64).cpu(), e = expected.astype(DType::I64).cpu();
    for (int64_t i = 0; i < a.numel(); ++i)
      if (a.data<int64_t>()[i] != e.data<int64_t>()[i])
        return ::testing::AssertionFailure()
               << "element " << i << ": " << a.data<int64_t>()[i] << " vs expected " << e.data<int64_t>()[i];
    return ::testing::AssertionSuccess();
  }
  const std::vector<float> a = actual.to_float_vector(), e = expected.to_float_vector();
  double emax = 0, num = 0, den = 0;
  for (float v : e) emax = std::max(emax, std::fabs(static_cast<double>(v)));
  const double atol = rtol * emax;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - e[i]);
    if (!(d <= atol + rtol * std::fabs(static_cast<double>(e[i]))))  // NaN fails here
      return ::testing::AssertionFailure()
             << "element " << i << " of " << a.size() << ": " << a[i] << " vs expected " << e[i]
             << " (|diff| " << d << ", allowed " << atol + rtol * std::fabs(static_cast<double>(e[i])) << ")";
    num += d * d;
    den += static_cast<double>(e[i]) * e[i];
  }
  if (den > 0 && std::sqrt(num / den) > rtol)
    return ::testing::AssertionFailure() << "relative L2 error " << std::sqrt(num / den) << " > " << rtol;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult identical(const Tensor& actual, const Tensor& expected) {
  if (!actual.defined() || !expected.defined()) return ::testing::AssertionFailure() << "undefined tensor";
  if (actual.shape() != expected.shape() || actual.dtype() != expected.dtype())
    return ::testing::AssertionFailure() << actual.describe() << " vs expected " << expected.describe();
  const Tensor a = actual.cpu(), e = expected.cpu();
  const size_t width = dtype_size(a.dtype());
  const auto* pa = static_cast<const unsigned char*>(a.raw_data());
  const auto* pe = static_cast<const unsigned char*>(e.raw_data());
  for (int64_t i = 0; i < a.numel(); ++i)
    if (std::memcmp(pa + i * width, pe + i * width, width) != 0)
      return ::testing::AssertionFailure()
             << "element " << i << " of " << a.numel()
             << " differs: " << a.astype(DType::F32).to_float_vector()[static_cast<size_t>(i)]
             << " vs expected " << e.astype(DType::F32).to_float_vector()[static_cast<size_t>(i)];
  return ::testing::AssertionSuccess();
}

std::string deflate_bytes(const std::string& raw, bool gzip) {
  z_stream zs{};
  SC_CHECK(
      deflateInit2(&zs, 6, Z_DEFLATED, gzip ? 16 + MAX_WBITS : -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK,
      "deflateInit2 failed");
  std::string out(deflateBound(&zs, raw.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  deflateEnd(&zs);
  SC_CHECK(rc == Z_STREAM_END, "deflate failed: ", rc);
  out.resize(zs.total_out);
  return out;
}

Tensor randn(const Shape& shape, uint64_t seed, float scale) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  Tensor t = Tensor::empty(shape);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = dist(rng);
  return t;
}

std::vector<double> random_logits(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0, 2);
  std::vector<double> z(n);
  for (auto& v : z) v = g(rng);
  return z;
}

void expect_gradient_matches_differences(const attacks::LogitsLoss& loss, const std::vector<double>& z,
                                         int64_t rows, int64_t classes, bool mean, double atol, double rtol) {
  std::vector<double> terms, dz(z.size(), 0.0);
  loss(z, rows, classes, terms, dz);
  const auto total = [&](const std::vector<double>& v) {
    std::vector<double> lv, unused(v.size(), 0.0);
    loss(v, rows, classes, lv, unused);
    double s = 0;
    for (double t : lv) s += t;
    return mean ? s / static_cast<double>(rows) : s;
  };
  const double h = 1e-6;
  for (size_t i = 0; i < z.size(); ++i) {
    std::vector<double> up = z, down = z;
    up[i] += h, down[i] -= h;
    EXPECT_NEAR(dz[i], (total(up) - total(down)) / (2 * h), atol + rtol * std::fabs(dz[i])) << "logit " << i;
  }
}

bool have_fashion_mnist() {
  return std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz");
}

Tensor random_images(const Shape& shape, uint64_t seed, float scale) {
  std::vector<float> v = randn(shape, seed, scale).to_float_vector();
  for (float& f : v) f = std::clamp(f + 0.5f, 0.0f, 1.0f);
  return Tensor::from_vector(v, shape);
}

std::unique_ptr<Classifier> random_classifier(const std::string& arch, int64_t channels, int64_t size,
                                              int64_t classes, uint64_t seed) {
  ModelSpec spec;
  spec.arch = arch;
  spec.channels = channels, spec.height = spec.width = size, spec.num_classes = classes;
  if (channels == 3) spec.mean = {0.49f, 0.48f, 0.45f}, spec.std = {0.25f, 0.24f, 0.26f};
  auto model = build_model(spec);
  randomize_parameters(*model, seed);
  return model;
}

ConvertOptions tiny_transformer_options(const std::string& arch) {
  ConvertOptions o;
  o.arch = arch;
  o.input_shape = {3, 16, arch == "vit" ? 16 : 12};
  o.num_classes = 5;
  o.flags = {{"patch", "4"}, {"dim", "24"}, {"depth", "2"}, {"heads", "3"}, {"mlp", "40"}};
  if (arch == "timm_vit") o.flags["layer_scale"] = "1", o.mean = o.std = {0.5f, 0.5f, 0.5f};
  return o;
}

namespace {
std::string tiny_transformer_name(const std::string& arch) {
  return fixture_dir() + "/checkpoints/" +
         (arch == "vit"    ? "hf_vit_tiny"
          : arch == "beit" ? "timm_beit_tiny"
                           : "timm_vit_tiny");
}
}  // namespace

std::string tiny_transformer_checkpoint(const std::string& arch) {
  return tiny_transformer_name(arch) + (arch == "vit" ? ".bin" : ".pth");
}

std::string tiny_transformer_io(const std::string& arch) {
  return tiny_transformer_name(arch) + ".io.safetensors";
}

void expect_interval_bounds_hold(Classifier& model, const Tensor& x, double eps, bool may_overflow) {
  const Tensor y = model.forward(x);
  const Interval point = model.bounds(linf_box(x, 0));
  EXPECT_TRUE(allclose(point.lower, y, 1e-4));
  EXPECT_TRUE(allclose(point.upper, y, 1e-4));
  const Interval b = model.bounds(linf_box(x, eps));
  const std::vector<float> lo = b.lower.to_float_vector(), hi = b.upper.to_float_vector(),
                           xv = x.to_float_vector();
  double scale = 0;
  for (float v : y.to_float_vector()) scale = std::max(scale, std::fabs(static_cast<double>(v)));
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 4; ++trial) {
    std::vector<float> p = xv;
    for (float& v : p) {
      const double step = trial < 2 ? std::uniform_real_distribution<double>(-eps, eps)(rng)
                                    : (rng() % 2 ? eps : -eps);  // corners
      v = static_cast<float>(std::clamp(v + step, 0.0, 1.0));
    }
    const std::vector<float> f = model.forward(Tensor::from_vector(p, x.shape())).to_float_vector();
    ASSERT_EQ(f.size(), lo.size());
    for (size_t k = 0; k < f.size(); ++k) {
      const bool finite = std::isfinite(lo[k]) && std::isfinite(hi[k]);
      EXPECT_TRUE(finite || may_overflow) << "output " << k << ": [" << lo[k] << ", " << hi[k] << "]";
      if (!finite) continue;
      EXPECT_GE(f[k], lo[k] - 1e-5 * scale) << "trial " << trial << " output " << k;
      EXPECT_LE(f[k], hi[k] + 1e-5 * scale) << "trial " << trial << " output " << k;
    }
  }
}

DiffusionModel narrow_diffusion_model(const std::string& name) {
  const std::string base = fixture_dir() + "/checkpoints/" + name;
  std::map<std::string, std::string> flags = io::read_safetensors(base + ".io.safetensors").metadata;
  const std::string arch = flags.at("arch");
  flags.erase("arch");
  flags["diffusion_steps"] = "4000";
  flags["noise_schedule"] = "cosine";
  DiffusionModel m = build_diffusion_model(arch, flags, name);
  auto ckpt = torchfile::read_checkpoint(base + ".pt");
  load_state_dict(*m.unet, torchfile::extract_state_dict(ckpt), base + ".pt");
  return m;
}

PredictedMemory predicted_and_actual_memory(BaseClassifier& base, const std::function<MemoryNeed()>& measure,
                                            int64_t rows, float sigma) {
  const Device d = base.device();
  const Shape s = base.input_shape();
  NoisyInput in;
  in.images = random_images({1, s[0], s[1], s[2]}, 3).to(d);
  const auto start = static_cast<int64_t>(live_bytes(d).now);
  const MemoryNeed need = measure();
  in.spans = {SampleSpan{rows, 0, 0, 0}};
  in.sigma = sigma;
  Tensor counts = Tensor::zeros({1, base.num_classes()}, DType::I64, d);
  reset_peak_bytes(d);
  base.accumulate_noisy_counts(in, counts);
  return {need.fixed + rows * need.per_row, static_cast<int64_t>(live_bytes(d).peak) - start};
}

}  // namespace sc::test
