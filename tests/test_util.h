// Helpers shared by the tests: fixture loading, tolerant comparison, random inputs.
#pragma once
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "attacks/loss_gradient.h"
#include "diffusion/denoiser.h"
#include "engine/memory_batch.h"
#include "io/json.h"
#include "nn/models/registry.h"
#include "nn/tensor.h"
#include "smoothing/base_classifier.h"
#include "weights_tools/convert.h"

// Expects `stmt` to throw sc::Error whose message contains every fragment.
#define EXPECT_ERROR_MENTIONS(stmt, ...)                                                           \
  do {                                                                                             \
    try {                                                                                          \
      stmt;                                                                                        \
      ADD_FAILURE() << "no error from " #stmt;                                                     \
    } catch (const ::sc::Error& e) {                                                               \
      for (const char* frag : {__VA_ARGS__})                                                       \
        EXPECT_NE(std::string(e.what()).find(frag), std::string::npos) << "message: " << e.what(); \
    }                                                                                              \
  } while (0)

namespace sc::test {

std::string fixture_dir();                       // tests/fixtures, or $SMOOTHCUDA_FIXTURES
std::string shared_dir();                        // ../shared beside the checkout, or $SMOOTHCUDA_SHARED
std::string temp_path(const std::string& name);  // a fresh path in this test's own scratch folder

// One case of an op fixture: its parameters (JSON) and named tensors ("x", "weight", ..., "out").
struct FixtureCase {
  std::string name;
  json::Value params;
  std::map<std::string, Tensor> tensors;
  const Tensor& at(const std::string& key) const;
  Tensor get(const std::string& key) const;  // undefined when absent
  int64_t int_param(const std::string& key) const;
  std::vector<int64_t> ints_param(const std::string& key) const;
  double number_param(const std::string& key) const;
  std::string string_param(const std::string& key) const;
  bool bool_param(const std::string& key) const;
};
std::vector<FixtureCase> load_fixture(const std::string& op);

// Float tensors: every element within atol + rtol·|expected| with atol = rtol·max|expected|, and the
// relative L2 error ‖a − e‖ / ‖e‖ ≤ rtol. Integer tensors: equal. Shapes must match; NaN never passes.
::testing::AssertionResult allclose(const Tensor& actual, const Tensor& expected, double rtol);
// ‖a − e‖₂ / ‖e‖₂ in double (a and e of one shape).
double relative_l2_error(const Tensor& a, const Tensor& e);
// The same shape, dtype and bytes (NaN payloads included): for ops that move or select values.
::testing::AssertionResult identical(const Tensor& actual, const Tensor& expected);

// `raw` deflated with zlib (level 6) as a raw stream, or gzip-wrapped as a .gz file holds it.
std::string deflate_bytes(const std::string& raw, bool gzip);

// Standard-normal float32 values from a fixed seed (a CPU tensor).
Tensor randn(const Shape& shape, uint64_t seed, float scale = 1.0f);
// n values drawn from N(0, 2²) in double (logits for the losses' tests).
std::vector<double> random_logits(size_t n, uint64_t seed);
// d(loss)/dz of a LogitsLoss at z against central differences in double, the loss being the sum of its terms
// or, with `mean`, their mean over the rows: |dz − difference| ≤ atol + rtol·|dz| for every logit.
void expect_gradient_matches_differences(const attacks::LogitsLoss& loss, const std::vector<double>& z,
                                         int64_t rows, int64_t classes, bool mean = false, double atol = 1e-7,
                                         double rtol = 0);
// Whether Debian's dataset-fashion-mnist is installed (the real-data training tests skip without it).
bool have_fashion_mnist();
// Images in [0, 1]: clamp(0.5 + scale·N(0, 1)).
Tensor random_images(const Shape& shape, uint64_t seed, float scale = 0.25f);
// A model of `arch` with deterministic random parameters (nn/models/random_init.h); 3-channel inputs get a
// CIFAR-like normalization.
std::unique_ptr<Classifier> random_classifier(const std::string& arch, int64_t channels, int64_t size,
                                              int64_t classes, uint64_t seed);

// The small vision transformers of make_vit_fixtures.py, to convert by their own keys: arch "vit"
// (checkpoints/hf_vit_tiny.bin, Hugging Face's, 16×16 images), "beit" (timm_beit_tiny.pth, timm's, 16×12) or
// "timm_vit" (timm_vit_tiny.pth, 16×12, with layer scales); 4×4 patches, width 24, 2 layers of 3 heads, MLP
// 40, 5 classes, mean and std 0.5. Their inputs, logits and gradients: tiny_transformer_io.
ConvertOptions tiny_transformer_options(const std::string& arch);
std::string tiny_transformer_checkpoint(const std::string& arch);
std::string tiny_transformer_io(const std::string& arch);

// Interval bounds of `model` around x: a box of radius 0 gives forward(x) (to 1e-4), and forward passes at
// random points and corners of the ℓ∞ box of radius eps lie between the bounds (within 1e-5 of the logits'
// scale). Non-finite bounds fail unless `may_overflow` (they then read as unbounded).
void expect_interval_bounds_hold(Classifier& model, const Tensor& x, double eps, bool may_overflow = false);

// A narrow UNet fixture (tests/fixtures/checkpoints/NAME.pt, random weights from the reference code) as a
// diffusion model with the CIFAR-10 schedule (cosine, 4000 steps), on the CPU.
DiffusionModel narrow_diffusion_model(const std::string& name);

// The bytes `base` needs for one batch of `rows` noisy samples of one image on its device, as predicted by a
// memory need measured first (fixed + rows · per_row) and as held at the batch's peak, both counted from
// what was live before the measurement.
struct PredictedMemory {
  int64_t predicted = 0, actual = 0;
};
PredictedMemory predicted_and_actual_memory(BaseClassifier& base, const std::function<MemoryNeed()>& measure,
                                            int64_t rows, float sigma);

}  // namespace sc::test
