// The fast transformer (engine/fast_transformer.h) against the libraries' own models (transformers' ViT,
// timm's BEiT and ViT: logits in float64, tests/fixtures/make_vit_fixtures.py) and the generic forward: every
// precision, odd shapes (16×12 images, heads of 8 channels, 5 classes), layer scales and normalization folded
// into weights, BEiT's relative position biases and mean pooling, the engine choice, its work count, and the
// 16-bit storage of the ops it adds (LayerNorm, GELU, tokens).
#include <cmath>

#include "engine/fast_classifier.h"
#include "engine/fast_transformer.h"
#include "io/safetensors.h"
#include "kernels/gelu.h"
#include "kernels/layer_norm.h"
#include "kernels/patch_tokens.h"
#include "nn/models/random_init.h"
#include "test_util.h"

namespace sc::test {
namespace {

// Precision: fp32 is the same math; the others round the activations (logits of order 1).
struct PrecisionCase {
  Precision precision;
  double tolerance;  // relative L2 error of the logits
};
const PrecisionCase kPrecisions[] = {
    {Precision::FP32, 1e-5}, {Precision::TF32, 1e-2}, {Precision::BF16, 3e-2}, {Precision::FP16, 1e-2}};

class FastTransformerTest : public ::testing::TestWithParam<std::string> {};

TEST_P(FastTransformerTest, MatchesTheLibrariesModels) {
  const std::string arch = GetParam();
  auto model =
      std::move(convert_checkpoint(tiny_transformer_checkpoint(arch), tiny_transformer_options(arch)).model);
  const io::Safetensors io = io::read_safetensors(tiny_transformer_io(arch));
  const Tensor& x = io.at("x");
  const Tensor generic = model->forward(x);
  for (const auto& [precision, tolerance] : kPrecisions) {
    SCOPED_TRACE(precision_name(precision));
    FastTransformer fast(*model, precision);
    const Tensor got = fast.logits(x);
    const double error = relative_l2_error(got, io.at("logits"));
    EXPECT_LT(error, tolerance);
    EXPECT_LT(relative_l2_error(got, generic), tolerance);
    if (precision != Precision::FP32) {
      EXPECT_GT(error, 1e-6);  // the precision is really applied
    }
    // Rows do not depend on the batch they run in, and buffers are reused safely.
    EXPECT_TRUE(identical(fast.logits(x.slice(0, 1, 2).contiguous()), got.slice(0, 1, 2).contiguous()));
    EXPECT_TRUE(identical(fast.logits(x), got));
    fast.set_chunk_rows(2);  // the batch of 3 in passes of 2 and 1, as batches past 2^31 elements run
    EXPECT_TRUE(identical(fast.logits(x), got));
  }
}

INSTANTIATE_TEST_SUITE_P(DenoisedSmoothingClassifiers, FastTransformerTest,
                         ::testing::Values("vit", "beit", "timm_vit"),
                         [](const auto& info) { return info.param; });

// make_base_classifier takes the fast transformer for `fast` (and `auto` with a reduced precision), the
// generic engine for `generic` and for `auto` on the CPU; a model that is no transformer is refused by name.
TEST(FastTransformer, EngineChoiceAndNotes) {
  std::string note;
  auto vit = std::move(
      convert_checkpoint(tiny_transformer_checkpoint("vit"), tiny_transformer_options("vit")).model);
  // On the CPU `auto` keeps the generic engine, faster there; `fast` or a reduced precision asks for it.
  auto base = make_base_classifier(*vit, "auto", std::nullopt, note);
  EXPECT_FALSE(runs_on_fast_engine(*base));
  EXPECT_EQ(note, "generic engine (fp32; the generic engine runs transformers faster on the CPU)");
  base = make_base_classifier(*vit, "fast", std::nullopt, note);
  EXPECT_TRUE(runs_on_fast_engine(*base));
  EXPECT_EQ(note, "fast transformer (fp32)");
  base = make_base_classifier(*vit, "auto", Precision::BF16, note);
  EXPECT_EQ(note, "fast transformer (bf16)");
  EXPECT_EQ(dynamic_cast<FastTransformer*>(base.get())->precision(), Precision::BF16);
  base = make_base_classifier(*vit, "generic", std::nullopt, note);
  EXPECT_EQ(dynamic_cast<FastTransformer*>(base.get()), nullptr);

  // BEiT too (relative position biases, the patch tokens' mean pooled).
  auto beit = std::move(
      convert_checkpoint(tiny_transformer_checkpoint("beit"), tiny_transformer_options("beit")).model);
  std::string why;
  EXPECT_TRUE(fast_transformer_supports(*beit, why)) << why;
  base = make_base_classifier(*beit, "fast", std::nullopt, note);
  EXPECT_NE(dynamic_cast<FastTransformer*>(base.get()), nullptr);
  auto lenet = random_classifier("lenet", 1, 28, 10, 1);
  EXPECT_FALSE(fast_transformer_supports(*lenet, why));
  EXPECT_ERROR_MENTIONS(FastTransformer(*lenet, Precision::FP32), "not a vision transformer");

  FastTransformer fast(*vit, Precision::FP32);
  EXPECT_ERROR_MENTIONS(fast.logits(random_images({2, 3, 16, 12}, 1)), "[B, 3, 16, 16]");
  EXPECT_EQ(fast.logits(Tensor::empty({0, 3, 16, 16})).shape(), Shape({0, 5}));
}

// Without a normalization, without layer scales, with one layer and a single patch (T = 2): the folds are
// skipped and the shapes at their smallest.
TEST(FastTransformer, SmallestShapesWithoutNormalization) {
  ModelSpec spec;
  spec.arch = "timm_vit";
  spec.channels = 2, spec.height = 5, spec.width = 5, spec.num_classes = 3;
  spec.flags = {{"patch", "5"}, {"dim", "6"}, {"depth", "1"}, {"heads", "2"}, {"mlp", "7"}};
  auto model = build_model(spec);
  randomize_parameters(*model, 3);
  const Tensor x = random_images({3, 2, 5, 5}, 4);
  EXPECT_LT(relative_l2_error(FastTransformer(*model, Precision::FP32).logits(x), model->forward(x)), 1e-5);
}

// ViT-B/16 at 224×224 does 17.56 G multiply-adds per image (timm lists vit_base_patch16_224 at 17.6 GMACs):
// 12 layers of 197 tokens × (4·768² + 2·768·3072) plus attention's 2·197²·768, the patch convolution's
// 196·768·768 and the head.
TEST(FastTransformer, CountsViTBase16sWork) {
  ModelSpec spec;
  spec.arch = "vit";
  spec.height = spec.width = 224, spec.num_classes = 10;
  auto model = build_model(spec);
  const double gmacs = transformer_flops_per_sample(*model) / 2e9;
  EXPECT_NEAR(gmacs, 17.56, 0.01);
  auto tiny = std::move(
      convert_checkpoint(tiny_transformer_checkpoint("vit"), tiny_transformer_options("vit")).model);
  EXPECT_EQ(FastTransformer(*tiny, Precision::FP32).flops_per_sample(), transformer_flops_per_sample(*tiny));
  EXPECT_EQ(transformer_flops_per_sample(*random_classifier("lenet", 1, 28, 10, 1)), 0.0);
}

// The forward ops in 16-bit storage compute in float from the rounded inputs: each equals the float32 op on
// those inputs, rounded once (γ, β, class token and positions stay float32).
TEST(FastTransformer, OpsIn16BitStorage) {
  const Tensor x = randn({3, 5, 37}, 11, 2.0f);
  const Tensor w = randn({37}, 12), b = randn({37}, 13), cls = randn({37}, 14), pos = randn({6, 37}, 15);
  for (DType dtype : {DType::BF16, DType::F16}) {
    SCOPED_TRACE(dtype_name(dtype));
    const Tensor rounded = x.astype(dtype);
    const Tensor xf = rounded.astype(DType::F32);
    const Tensor norm = ops::layer_norm(rounded, w, b, 1e-6);
    ASSERT_EQ(norm.dtype(), dtype);
    EXPECT_TRUE(identical(norm, ops::layer_norm(xf, w, b, 1e-6).astype(dtype)));
    const Tensor g = ops::gelu(rounded);
    ASSERT_EQ(g.dtype(), dtype);
    EXPECT_TRUE(identical(g, ops::gelu(xf).astype(dtype)));
    // Patches as rows [B, P, C] give the tokens of the channels-first op on the transposed patches.
    const Tensor tokens = ops::patch_tokens_nhwc(rounded, cls, pos);
    ASSERT_EQ(tokens.dtype(), dtype);
    const Tensor expected = ops::patch_tokens(xf.permute({0, 2, 1}).contiguous(), cls, pos).astype(dtype);
    EXPECT_TRUE(identical(tokens, expected));
  }
  EXPECT_TRUE(identical(ops::patch_tokens_nhwc(x, cls, pos),
                        ops::patch_tokens(x.permute({0, 2, 1}).contiguous(), cls, pos)));
  EXPECT_ERROR_MENTIONS(ops::patch_tokens(x.astype(DType::BF16), cls, pos), "float32");
  EXPECT_ERROR_MENTIONS(ops::patch_tokens_nhwc(x, cls, randn({5, 37}, 1)), "[6, 37]");
  EXPECT_ERROR_MENTIONS(ops::layer_norm(x.astype(DType::I32), w, b, 1e-6), "float32, bfloat16 or float16");
  EXPECT_ERROR_MENTIONS(ops::layer_norm_backward(x.astype(DType::BF16), x.astype(DType::BF16), w, 1e-6),
                        "float32");
  EXPECT_ERROR_MENTIONS(ops::gelu(x.astype(DType::I64)), "float32, bfloat16 or float16");
}

}  // namespace
}  // namespace sc::test
