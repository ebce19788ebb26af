// PyTorch checkpoints read without PyTorch: every architecture against PyTorch's logits, Cohen's legacy format,
// torchvision's zip format with DataParallel keys, the real akamaster checkpoints, and hostile or broken files.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "io/dataset.h"
#include "io/file_util.h"
#include "io/safetensors.h"
#include "io/sha256.h"
#include "kernels/argmax.h"
#include "kernels/elementwise.h"
#include "nn/models/model_file.h"
#include "test_util.h"
#include "weights_tools/convert.h"
#include "weights_tools/torch_checkpoint.h"

namespace sc::test {
namespace {

std::string ckpt_dir() { return fixture_dir() + "/checkpoints/"; }

// Reading the whole zoo once: one zip file holding {arch: state_dict} with shared, strided storages.
const torchfile::Checkpoint& zoo() {
  static const torchfile::Checkpoint c = torchfile::read_checkpoint(ckpt_dir() + "zoo.pt");
  return c;
}

// The zoo's model of `arch` for inputs shaped like x, with its weights from zoo.pt.
std::unique_ptr<Classifier> zoo_model(const std::string& arch, const Tensor& x) {
  const pickle::Value* sd = zoo().root->get(arch);
  SC_CHECK(sd != nullptr, "zoo.pt has no ", arch);
  StateDict state;
  for (const auto& [k, t] : sd->entries) state.emplace_back(k->text, pickle::materialize(*t->tensor, arch));
  ModelSpec spec;
  spec.arch = arch;
  const bool imagenet = arch == "resnet18" || arch == "resnet50";
  spec.num_classes = imagenet ? 1000 : 10;
  spec.height = x.size(2), spec.width = x.size(3);
  const bool aka = arch.rfind("aka_", 0) == 0;
  spec.mean = imagenet || aka ? std::vector<float>{0.485f, 0.456f, 0.406f} : std::vector<float>{0.4914f, 0.4822f, 0.4465f};
  spec.std = imagenet || aka ? std::vector<float>{0.229f, 0.224f, 0.225f} : std::vector<float>{0.2023f, 0.1994f, 0.2010f};
  auto model = build_model(spec);
  load_state_dict(*model, state, "zoo.pt/" + arch);
  return model;
}

class ZooArch : public ::testing::TestWithParam<std::string> {};

TEST_P(ZooArch, LogitsMatchPyTorch) {
  const std::string arch = GetParam();
  const io::Safetensors io = io::read_safetensors(ckpt_dir() + "zoo.io.safetensors");
  const Tensor& x = io.at(arch + ".x");
  EXPECT_TRUE(allclose(zoo_model(arch, x)->forward(x), io.at(arch + ".logits"), 1e-4));
}

// The input gradient through every block type (post-activation with identity, projection and option-A
// shortcuts, bottleneck, pre-activation), max pooling and the normalization, against PyTorch's autograd in
// float64. The forward runs first without recording, to check that backward uses the recorded pass.
TEST_P(ZooArch, InputGradientsMatchPyTorch) {
  const std::string arch = GetParam();
  const io::Safetensors grad = io::read_safetensors(ckpt_dir() + "zoo.grad.safetensors");
  const Tensor& x = grad.at(arch + ".x");
  auto model = zoo_model(arch, x);
  {
    RecordForBackward record;
    model->forward(x);
  }
  model->forward(random_images(x.shape(), 5));  // not recorded: must not replace what backward uses
  const Tensor dx = model->backward(grad.at(arch + ".dy"));
  // ReLU is not differentiable at 0: where float32 and float64 round a pre-activation near 0 to different
  // sides, one unit's gradient changes over its receptive field (wrn28_10's second sample: 0.25% of the
  // L2 norm, 1044 elements; the other archs agree to 5e-7). A wrong or missing path changes the norm by tens
  // of percent, so the whole gradient's relative L2 error is the criterion.
  EXPECT_LT(relative_l2_error(dx, grad.at(arch + ".dx")), 5e-3);
}

// Interval bound propagation through every block type: the logits of random points and corners of the ℓ∞
// box lie between the bounds, and a box of radius 0 gives the forward pass.
TEST_P(ZooArch, IntervalBoundsHoldInsideTheBox) {
  const std::string arch = GetParam();
  if (arch == "wrn28_10" || arch == "aka_resnet1202" || arch == "aka_resnet110" || arch == "cifar_resnet110")
    GTEST_SKIP() << "the same blocks as the smaller nets, at several seconds a pass";
  const io::Safetensors grad = io::read_safetensors(ckpt_dir() + "zoo.grad.safetensors");
  const Tensor x = grad.at(arch + ".x").slice(0, 0, 1).contiguous();
  auto model = zoo_model(arch, x);
  // ResNet-50's random weights widen the box ~40× per convolution: its bounds overflow to ±inf or NaN (read
  // as unbounded, never as a finite wrong bound). The others stay finite.
  expect_interval_bounds_hold(*model, x, 1e-5, arch == "resnet50");
}

TEST(ZooArch, BackwardWithoutARecordedForwardIsAnError) {
  const io::Safetensors grad = io::read_safetensors(ckpt_dir() + "zoo.grad.safetensors");
  const Tensor& x = grad.at("cifar_resnet20.x");
  auto model = zoo_model("cifar_resnet20", x);
  model->forward(x);
  EXPECT_ERROR_MENTIONS(model->backward(grad.at("cifar_resnet20.dy")), "backward without a recorded forward");
}

// A training step through one architecture of each block kind against PyTorch in train mode (float64): the
// logits on batch statistics, dx, every trainable parameter's gradient (a sample of its elements and its
// norm: zoo.train keeps at most 256 per tensor) and the running statistics after the step. With batch
// statistics over few values (ResNet-50's last stage: 2×2 pixels × 4 images), BatchNorm's backward subtracts
// nearly equal means, and float32 loses digits. PyTorch's own float32 pass on the same inputs differs from
// its float64 one (relative L2 of dx / of all sampled gradients together / of the worst single tensor):
// cifar_resnet20 0.6% / 0.6%, aka_resnet32 1e-6 / 1e-6, wrn40_2 0.5% / 0.5%, resnet18 6e-6 / 6e-6,
// resnet50 1.3% / 1.3% / 3% (layer4.0.bn2.bias); logits 5e-5 at most. The tolerances are twice those
// (at least 0.1%, 3% per tensor; 4% for ResNet-50's): a wrong or missing term changes a gradient by tens of
// percent.
// What zoo.train and zoo.ibp keep of a parameter's gradient (gradient_sample in make_checkpoint_fixtures.py:
// every ceil(n/256)-th element, and the L2 norm) against ours, within `per_tensor`; the samples are appended
// to `ours` and `expected` for the check of all of them together. Differences up to `floor` pass whatever the
// tensor's norm: a gradient that vanishes exactly in float64 is float32's rounding in ours.
void expect_gradient_sample_matches(const Tensor& g, const io::Safetensors& ref, const std::string& prefix,
                                    const std::string& key, double per_tensor, double floor,
                                    std::vector<float>& ours, std::vector<float>& expected) {
  const std::vector<float> all = g.to_float_vector();
  const size_t step = std::max<size_t>(1, (all.size() + 255) / 256);
  std::vector<float> sample;
  double norm = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    if (i % step == 0) sample.push_back(all[i]);
    norm += static_cast<double>(all[i]) * all[i];
  }
  const Tensor want = ref.at(prefix + "grad." + key);
  const std::vector<float> e = want.to_float_vector();
  const double want_norm = ref.at(prefix + "grad_norm." + key).to_float_vector()[0];
  double sample_norm = 0, diff = 0;
  for (size_t i = 0; i < e.size() && i < sample.size(); ++i) {
    sample_norm += static_cast<double>(e[i]) * e[i];
    diff += (static_cast<double>(sample[i]) - e[i]) * (static_cast<double>(sample[i]) - e[i]);
  }
  ASSERT_EQ(sample.size(), e.size()) << key;
  // A sample of zeros (a 3×3 kernel on a 1×1 map has gradients at its centre tap only) is measured against
  // the whole tensor's norm.
  EXPECT_LE(std::sqrt(diff),
            std::max(floor, per_tensor * (sample_norm > 0 ? std::sqrt(sample_norm) : want_norm)))
      << key;
  EXPECT_NEAR(std::sqrt(norm), want_norm, std::max(floor, per_tensor * want_norm)) << key;
  ours.insert(ours.end(), sample.begin(), sample.end());
  expected.insert(expected.end(), e.begin(), e.end());
}

// A training step of `model` on ref's PREFIXx and PREFIXdy against PyTorch's (above): the output, dx, every
// trainable parameter's gradient (its sample and norm, and all samples together within `tol`, each tensor
// within `per_tensor`, or `floor` absolutely) and the running statistics after the step (every one the
// reference holds).
void expect_training_step_matches(Classifier& model, const io::Safetensors& ref, const std::string& prefix,
                                  const std::string& output_key, double tol, double per_tensor,
                                  double floor = 0) {
  ParameterGradients grads;
  Tensor output, dx;
  {
    TrainingMode training;
    RecordForBackward record;
    output = model.forward(ref.at(prefix + "x"));
    AccumulateParameterGradients accumulate(grads);
    dx = model.backward(ref.at(prefix + "dy"));
  }
  EXPECT_LT(relative_l2_error(output, ref.at(prefix + output_key)), 1e-4);
  EXPECT_LT(relative_l2_error(dx, ref.at(prefix + "dx")), tol);
  int checked = 0, stats = 0;
  std::vector<float> all_ours, all_expected;
  for (auto& [key, t] : model.named_tensors()) {
    if (key.find("running_") != std::string::npos) {
      EXPECT_LT(relative_l2_error(*t, ref.at(prefix + "after." + key)), 1e-5) << key;
      ++stats;
      continue;
    }
    if (key.find("num_batches_tracked") != std::string::npos) {
      EXPECT_EQ(t->cpu().data<int64_t>()[0], 1) << key;  // PyTorch counts the step too
      continue;
    }
    if (key.empty()) continue;
    const Tensor* g = grads.find(*t);
    ASSERT_NE(g, nullptr) << key << " got no gradient";
    expect_gradient_sample_matches(*g, ref, prefix, key, per_tensor, floor, all_ours, all_expected);
    ++checked;
  }
  const int64_t n = static_cast<int64_t>(all_ours.size());
  EXPECT_LT(relative_l2_error(Tensor::from_vector(all_ours, {n}), Tensor::from_vector(all_expected, {n})),
            tol);
  EXPECT_EQ(static_cast<size_t>(checked), grads.size());  // no gradient for anything but the parameters
  int stats_expected = 0;  // every running statistic PyTorch updated was checked
  for (const auto& [key, t] : ref.tensors)
    if (key.rfind(prefix + "after.", 0) == 0) ++stats_expected;
  EXPECT_EQ(stats, stats_expected);
}

class ZooTraining : public ::testing::TestWithParam<std::string> {};

TEST_P(ZooTraining, GradientsAndRunningStatisticsMatchPyTorch) {
  const std::string arch = GetParam();
  const io::Safetensors ref = io::read_safetensors(ckpt_dir() + "zoo.train.safetensors");
  auto model = zoo_model(arch, ref.at(arch + ".x"));
  const std::map<std::string, double> tolerance = {{"cifar_resnet20", 1.2e-2},
                                                   {"aka_resnet32", 1e-3},
                                                   {"wrn40_2", 1e-2},
                                                   {"resnet18", 1e-3},
                                                   {"resnet50", 2.6e-2}};
  expect_training_step_matches(*model, ref, arch + ".", "logits", tolerance.at(arch),
                               arch == "resnet50" ? 4e-2 : 3e-2);
}

// IBP training's backward through one architecture of each block kind (BatchNorm at its running statistics,
// identity, projection and option-A shortcuts, bottlenecks, pre-activation, max pooling) against PyTorch's
// autograd in float64 on the same bounds (zoo.ibp: the zoo weights with each convolution's weight scaled by
// a power of two, so that the boxes stay a few units wide). For L = Σ a·lower_out + b·upper_out: the output
// bounds, the gradient with respect to the image box and every parameter's (sampled as zoo.train's). Under
// TrainingMode the bounds are the same (BatchNorm bounds with its running statistics).
class ZooIbp : public ::testing::TestWithParam<std::string> {};

TEST_P(ZooIbp, BoundsBackwardMatchesPyTorch) {
  const std::string arch = GetParam(), p = arch + ".";
  const io::Safetensors ref = io::read_safetensors(ckpt_dir() + "zoo.ibp.safetensors");
  const Interval box{ref.at(p + "lower"), ref.at(p + "upper")};
  auto model = zoo_model(arch, box.lower);
  const float scale = ref.at(p + "scale").to_float_vector()[0];
  for (auto& [key, t] : model->named_tensors())
    if (t->dim() == 4) *t = ops::affine(*t, scale, 0.0f);  // a power of two: exact
  ParameterGradients grads;
  Interval out, d_box;
  {
    RecordForBackward record;
    out = model->bounds(box);
    AccumulateParameterGradients into(grads);
    d_box = model->bounds_backward({ref.at(p + "a"), ref.at(p + "b")});
  }
  EXPECT_LT(relative_l2_error(out.lower, ref.at(p + "out_lower")), 1e-5);
  EXPECT_LT(relative_l2_error(out.upper, ref.at(p + "out_upper")), 1e-5);
  EXPECT_LT(relative_l2_error(d_box.lower, ref.at(p + "grad_lower")), 1e-4);
  EXPECT_LT(relative_l2_error(d_box.upper, ref.at(p + "grad_upper")), 1e-4);
  std::vector<float> ours, expected;
  int checked = 0;
  for (auto& [key, t] : model->named_tensors()) {
    if (key.empty() || key.find("running_") != std::string::npos ||
        key.find("num_batches") != std::string::npos)
      continue;
    const Tensor* g = grads.find(*t);
    ASSERT_NE(g, nullptr) << key << " got no gradient";
    expect_gradient_sample_matches(*g, ref, p, key, 1e-3, 0, ours, expected);
    ++checked;
  }
  const int64_t n = static_cast<int64_t>(ours.size());
  EXPECT_LT(relative_l2_error(Tensor::from_vector(ours, {n}), Tensor::from_vector(expected, {n})), 1e-4);
  EXPECT_EQ(static_cast<size_t>(checked), grads.size());
  {
    TrainingMode training;
    EXPECT_TRUE(identical(model->bounds(box).upper, out.upper));
  }
}

INSTANTIATE_TEST_SUITE_P(All, ZooIbp,
                         ::testing::Values("cifar_resnet20", "aka_resnet32", "wrn40_2", "resnet18",
                                           "resnet50"),
                         [](const auto& info) { return info.param; });

INSTANTIATE_TEST_SUITE_P(All, ZooTraining,
                         ::testing::Values("cifar_resnet20", "aka_resnet32", "wrn40_2", "resnet18",
                                           "resnet50"),
                         [](const auto& info) { return info.param; });

INSTANTIATE_TEST_SUITE_P(All, ZooArch,
                         ::testing::Values("cifar_resnet20", "cifar_resnet110", "aka_resnet32", "aka_resnet44",
                                           "aka_resnet110", "aka_resnet1202", "wrn28_10", "wrn40_2", "resnet18",
                                           "resnet50"),
                         [](const auto& info) { return info.param; });

TEST(Checkpoints, CohenLegacyFormatConvertsByItsOwnArch) {
  const std::string src = ckpt_dir() + "cohen_cifar_resnet110.pth.tar";
  ConvertedModel c = convert_checkpoint(src, {});  // arch and CIFAR normalization from the file itself
  EXPECT_EQ(c.model->spec.arch, "cifar_resnet110");
  EXPECT_EQ(c.metadata.at("source_format"), "legacy");
  EXPECT_EQ(c.metadata.at("source_key_prefix"), "1.");
  EXPECT_EQ(c.metadata.at("source_sha256"), io::sha256_hex(io::read_file(src)));
  const io::Safetensors io = io::read_safetensors(ckpt_dir() + "cohen_cifar_resnet110.io.safetensors");
  EXPECT_TRUE(allclose(c.model->forward(io.at("x")), io.at("logits"), 1e-4));
  // Written and read back as a model file, it computes the same.
  const std::string dst = temp_path("cohen.safetensors");
  write_converted(dst, c);
  auto back = load_model(dst);
  EXPECT_TRUE(allclose(back->forward(io.at("x")), io.at("logits"), 1e-4));
  EXPECT_EQ(io::read_safetensors(dst).metadata.at("source_file"), "cohen_cifar_resnet110.pth.tar");
}

// The classifiers of diffusion denoised smoothing, by their own key names: Hugging Face's
// ViTForImageClassification (CIFAR-10) from its pytorch_model.bin and timm's Beit (ImageNet) from torch.save
// of its state dict with the relative position indices older checkpoints hold. Small random models
// (make_vit_fixtures.py: 4×4 patches, width 24, 2 layers of 3 heads; BEiT on a 4×3 grid) against the
// libraries' own models in float64: the logits, then the input gradient and every parameter's gradient
// (LayerNorms, attention, relative position tables, layer scales, MLP, class token, positions, patches).
class TransformerCheckpoint : public ::testing::TestWithParam<std::string> {};

TEST_P(TransformerCheckpoint, ConvertsByItsOwnKeys) {
  const std::string arch = GetParam(), checkpoint = tiny_transformer_checkpoint(arch);
  ConvertOptions o = tiny_transformer_options(arch);
  ConvertedModel c = convert_checkpoint(checkpoint, o);
  EXPECT_EQ(c.metadata.at("source_format"), "zip");
  EXPECT_EQ(c.model->spec.mean, std::vector<float>(3, 0.5f));  // the image processors', implied by the arch
  const io::Safetensors io = io::read_safetensors(tiny_transformer_io(arch));
  EXPECT_LT(relative_l2_error(c.model->forward(io.at("x")), io.at("logits")), 1e-5);
  const std::string dst = temp_path(arch + "_tiny.safetensors");
  write_converted(dst, c);
  auto back = load_model(dst);
  EXPECT_LT(relative_l2_error(back->forward(io.at("x")), io.at("logits")), 1e-5);
  // The ViT's key biases get no gradient (a shift shared by every key leaves the softmax as it is): PyTorch's
  // float64 gives norms of 1e-16, ours float32's 4e-8; the other gradients' norms are above 0.1.
  expect_training_step_matches(*back, io, "train.", "logits", 1e-4, 1e-4, 1e-6);
  // The same weights as a plain safetensors state dict (as Hugging Face and timm publish model.safetensors);
  // a smoothcuda model file is refused as a source.
  const std::string plain = temp_path(arch + "_model.safetensors");
  io::write_safetensors(plain, state_dict(*c.model), {{"format", "pt"}});
  ConvertedModel from_plain = convert_checkpoint(plain, o);
  EXPECT_EQ(from_plain.metadata.at("source_format"), "safetensors");
  EXPECT_TRUE(identical(from_plain.model->forward(io.at("x")), c.model->forward(io.at("x"))));
  EXPECT_ERROR_MENTIONS(convert_checkpoint(dst, o), "already a smoothcuda model file");
  o.flags.erase("dim");  // ViT-B's width: the first tensor of another shape is named
  EXPECT_ERROR_MENTIONS(convert_checkpoint(checkpoint, o), "768");
}

INSTANTIATE_TEST_SUITE_P(DenoisedSmoothingClassifiers, TransformerCheckpoint,
                         ::testing::Values("vit", "beit", "timm_vit"),
                         [](const auto& info) { return info.param; });

TEST(Checkpoints, TorchvisionZipWithDataParallelKeys) {
  ConvertOptions o;
  o.arch = "resnet50";
  o.input_shape = {3, 64, 64};
  ConvertedModel c = convert_checkpoint(ckpt_dir() + "torchvision_resnet50.pth", o);
  EXPECT_EQ(c.metadata.at("source_format"), "zip");
  EXPECT_EQ(c.metadata.at("source_key_prefix"), "module.");
  EXPECT_EQ(c.model->spec.num_classes, 1000);
  const io::Safetensors io = io::read_safetensors(ckpt_dir() + "torchvision_resnet50.io.safetensors");
  EXPECT_TRUE(allclose(c.model->forward(io.at("x")), io.at("logits"), 1e-4));
}

// A denoiser checkpoint in Salman et al.'s format (NAME.pth.tar, {'epoch', 'arch', 'state_dict',
// 'optimizer'}) converted by its own 'arch' with `o`: no classes, no normalization; its output at inference,
// also as a model file, and a training-mode step (dx, every parameter's gradient, the running statistics)
// against PyTorch in float64 (NAME.io.safetensors). The output is x plus a change of a few percent of x: the
// test is not passed by x itself. Through many BatchNorms on batch statistics float32 loses digits: on the
// DnCNN (15 of them), PyTorch's own float32 step differs from its float64 one by 0.09% in dx, 0.06% over all
// gradients and 0.22% in the worst tensor. The tolerances are about twice those.
void expect_salman_denoiser_matches(const std::string& name, const ConvertOptions& o,
                                    const std::string& arch) {
  const io::Safetensors io = io::read_safetensors(ckpt_dir() + name + ".io.safetensors");
  ConvertedModel c = convert_checkpoint(ckpt_dir() + name + ".pth.tar", o);
  EXPECT_EQ(c.model->spec.arch, arch);
  EXPECT_EQ(c.model->spec.num_classes, 0);
  EXPECT_EQ(c.model->normalize, nullptr);
  EXPECT_EQ(c.metadata.at("num_classes"), "0");
  const Tensor& x = io.at("x");
  const Tensor out = c.model->forward(x);
  EXPECT_EQ(out.shape(), x.shape());
  EXPECT_LT(relative_l2_error(out, io.at("output")), 1e-5);
  EXPECT_GT(relative_l2_error(x, io.at("output")), 1e-2);
  const std::string dst = temp_path(name + ".safetensors");
  write_converted(dst, c);
  EXPECT_LT(relative_l2_error(load_model(dst)->forward(x), io.at("output")), 1e-5);
  expect_training_step_matches(*c.model, io, "train.", "output", 3e-3, 5e-3);
}

// Their DnCNN as they configure it for CIFAR-10 (BatchNorm momentum 0.95).
TEST(Checkpoints, SalmanDnCNNConvertsByItsOwnArch) {
  expect_salman_denoiser_matches("salman_cifar_dncnn", {}, "cifar_dncnn");
}

// Their MemNet, narrowed (width 8, 2 memory blocks of 2 residual blocks: the flags convert takes) and on
// 12×10 images. Without the flags, the first mismatching key is named.
TEST(Checkpoints, SalmanMemNetConvertsByItsOwnArch) {
  ConvertOptions o;
  o.input_shape = {3, 12, 10};
  EXPECT_ERROR_MENTIONS(convert_checkpoint(ckpt_dir() + "salman_memnet.pth.tar", o),
                        "feature_extractor.conv.weight");
  o.flags = {{"width", "8"}, {"memory_blocks", "2"}, {"residual_blocks", "2"}};
  expect_salman_denoiser_matches("salman_memnet", o, "memnet");
}

TEST(Checkpoints, DenoisersHaveNoClassesOrNormalization) {
  ConvertOptions o;
  o.mean = {0.5f, 0.5f, 0.5f}, o.std = {0.2f, 0.2f, 0.2f};
  EXPECT_ERROR_MENTIONS(convert_checkpoint(ckpt_dir() + "salman_cifar_dncnn.pth.tar", o), "is a denoiser",
                        "--mean");
  ModelSpec spec;
  spec.arch = "dncnn";
  spec.channels = 1, spec.height = 9, spec.width = 7;
  EXPECT_ERROR_MENTIONS(build_model(spec), "is a denoiser", "no classes");  // the default 10 classes
  spec.num_classes = 0;
  spec.flags["depth"] = "3";
  auto model = build_model(spec);
  // Weights and biases, BatchNorm's affine map and running statistics, its batch counter.
  EXPECT_EQ(model->parameter_count(), 9 * 64 + 64 + 64 * 64 * 9 + 4 * 64 + 1 + 64 * 9);
  const std::string path = temp_path("dncnn_tiny.safetensors");
  save_model(path, *model);
  io::Safetensors file = io::read_safetensors(path);
  file.metadata["num_classes"] = "10";
  const std::string bad = temp_path("dncnn_classes.safetensors");
  io::write_safetensors(bad, state_dict(*model), file.metadata);
  EXPECT_ERROR_MENTIONS(load_model(bad), "num_classes of the denoiser", "must be 0");
  spec.arch = "lenet";
  spec.height = spec.width = 28;
  EXPECT_ERROR_MENTIONS(build_model(spec), "number of classes must be positive");
}

// The same checkpoint as torch.save writes it (stored entries), in both pickle layouts, and re-zipped with
// deflated entries: the same tensors, bit for bit.
TEST(Checkpoints, StoredDeflatedAndLegacyLayoutsReadTheSame) {
  auto read = [](const std::string& name) {
    torchfile::Checkpoint c = torchfile::read_checkpoint(ckpt_dir() + name);
    EXPECT_EQ(torchfile::root_string(c, "arch"), "tiny") << name;
    return torchfile::extract_state_dict(c);
  };
  const StateDict stored = read("tiny_zip.pt");
  ASSERT_EQ(stored.size(), 8u);
  for (const char* other : {"tiny_zip_deflated.pt", "tiny_legacy.pt"}) {
    const StateDict d = read(other);
    ASSERT_EQ(d.size(), stored.size()) << other;
    for (size_t i = 0; i < d.size(); ++i) {
      EXPECT_EQ(d[i].first, stored[i].first) << other;
      EXPECT_TRUE(identical(d[i].second, stored[i].second)) << other << " " << d[i].first;
    }
  }
}

TEST(Checkpoints, MissingArchAndWrongArchAreNamed) {
  EXPECT_ERROR_MENTIONS(convert_checkpoint(ckpt_dir() + "torchvision_resnet50.pth", {}), "give --arch");
  ConvertOptions o;
  o.arch = "resnet18";
  o.input_shape = {3, 64, 64};
  EXPECT_ERROR_MENTIONS(convert_checkpoint(ckpt_dir() + "torchvision_resnet50.pth", o), "layer1.0.conv1.weight",
                        "[64, 64, 1, 1]", "[64, 64, 3, 3]");
  o.arch = "cifar_resnet20";
  o.input_shape.clear();
  EXPECT_ERROR_MENTIONS(convert_checkpoint(ckpt_dir() + "cohen_cifar_resnet110.pth.tar", o), "unexpected key",
                        "layer1.3");
}

TEST(Checkpoints, PickleThatCallsOsSystemIsRefused) {
  for (const char* f : {"malicious_os_system.pt", "malicious_os_system_legacy.pt"}) {
    SCOPED_TRACE(f);
    // Python pickles os.system under its implementation module, posix.system on Linux.
    EXPECT_ERROR_MENTIONS(torchfile::read_checkpoint(ckpt_dir() + f), "refusing to load global", "posix.system");
  }
  // The same refusal for a global named through STACK_GLOBAL (protocol 4) and for builtins.eval.
  const std::string stack_global = std::string("\x80\x04\x8c\x08" "builtins\x8c\x04" "eval\x93\x8c\x01x\x85R.", 24);
  EXPECT_ERROR_MENTIONS(pickle::load(stack_global, 0, nullptr, "test"), "builtins.eval");
}

TEST(Checkpoints, PickleThatHoldsItselfOrNestsTooDeepIsRefused) {
  using namespace std::string_literals;
  // l = []; l.append(l): EMPTY_LIST, BINPUT 0, BINGET 0, APPEND, STOP.
  EXPECT_ERROR_MENTIONS(pickle::load("\x80\x02]q\x00"
                                     "h\x00"
                                     "a."s,
                                     0, nullptr, "cycle.pkl"),
                        "cycle.pkl", "holds itself");
  // A cycle through a dict and a tuple, left in the memo while the pickle returns something else.
  EXPECT_ERROR_MENTIONS(pickle::load("\x80\x02}q\x00K\x01h\x00\x85sN."s, 0, nullptr, "memo.pkl"),
                        "holds itself");
  // Lists nested 300 deep, then 150 deep (accepted: the limit is 200).
  auto nested = [](int depth) {
    return "\x80\x02" + std::string(depth, ']') + std::string(depth - 1, 'a') + ".";
  };
  EXPECT_ERROR_MENTIONS(pickle::load(nested(300), 0, nullptr, "deep.pkl"), "nested deeper than 200");
  const pickle::ValuePtr ok = pickle::load(nested(150), 0, nullptr, "ok.pkl").value;
  int depth = 1;
  for (const pickle::Value* v = ok.get(); !v->items.empty(); v = v->items[0].get()) ++depth;
  EXPECT_EQ(depth, 150);
  // Shared (not cyclic) references are fine: [x, x] with x = [[1]].
  const pickle::ValuePtr shared = pickle::load(
                                      "\x80\x02](]]K\x01"
                                      "aaq\x01h\x01"
                                      "e."s,
                                      0, nullptr, "dag.pkl")
                                      .value;
  ASSERT_EQ(shared->items.size(), 2u);
  EXPECT_EQ(shared->items[0], shared->items[1]);
}

TEST(Checkpoints, TruncatedAndCorruptFilesFailClearly) {
  for (const char* name : {"cohen_cifar_resnet110.pth.tar", "torchvision_resnet50.pth"}) {
    const std::string bytes = io::read_file(ckpt_dir() + name);
    for (double frac : {0.999, 0.9, 0.5, 0.01}) {
      const std::string cut = bytes.substr(0, static_cast<size_t>(bytes.size() * frac));
      try {
        torchfile::Checkpoint c = torchfile::parse_checkpoint(cut, name);
        c.path = name;
        torchfile::extract_state_dict(c);
        ADD_FAILURE() << name << " cut at " << frac << " was accepted";
      } catch (const Error& e) {
        const std::string m = e.what();
        EXPECT_TRUE(m.find("truncated") != std::string::npos || m.find("corrupt") != std::string::npos ||
                    m.find("no end-of-directory") != std::string::npos)
            << name << " cut at " << frac << ": " << m;
      }
    }
  }
  EXPECT_ERROR_MENTIONS(torchfile::parse_checkpoint("hello world, not a checkpoint", "junk.pt"), "junk.pt");
  EXPECT_ERROR_MENTIONS(torchfile::parse_checkpoint("", "empty.pt"), "empty file");
}

// The real akamaster checkpoints from ../shared (legacy format, 'module.' keys, ImageNet normalization).
class Akamaster : public ::testing::TestWithParam<int> {};

TEST_P(Akamaster, MatchesPyTorchLogitsAndJpegPredictions) {
  const int depth = GetParam();
  const std::string file = shared_dir() + "/models/akamaster/" +
                           (depth == 20 ? "resnet20-12fca82f.th" : "resnet56-4bfd9763.th");
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "no " << file;
  ConvertOptions o;
  o.arch = "aka_resnet" + std::to_string(depth);
  ConvertedModel c = convert_checkpoint(file, o);
  EXPECT_EQ(c.metadata.at("source_format"), "legacy");
  EXPECT_EQ(c.model->spec.mean, (std::vector<float>{0.485f, 0.456f, 0.406f}));
  const io::Safetensors io =
      io::read_safetensors(ckpt_dir() + "akamaster_resnet" + std::to_string(depth) + ".io.safetensors");
  EXPECT_TRUE(allclose(c.model->forward(io.at("x")), io.at("logits"), 1e-4));

  const std::string jpegs = shared_dir() + "/data/cifar10-jpeg/test";
  if (!std::filesystem::exists(jpegs)) GTEST_SKIP() << "no " << jpegs;
  auto data = io::open_dataset("folder:" + jpegs);
  ASSERT_EQ(data->size(), 10000);
  const Tensor expected = io.at("jpeg_predictions"), labels = io.at("jpeg_labels");
  const int64_t n = expected.numel();
  int64_t agree = 0, correct = 0;
  for (int64_t b = 0; b < n; b += 250) {
    const int64_t e = std::min(n, b + 250);
    Tensor x = Tensor::empty({e - b, 3, 32, 32});
    for (int64_t i = b; i < e; ++i) {
      data->read_image(i * 10, x.data<float>() + (i - b) * 3072);
      ASSERT_EQ(data->label(i * 10), labels.data<int64_t>()[i]);
    }
    const Tensor pred = ops::argmax(c.model->forward(x));
    for (int64_t i = b; i < e; ++i) {
      agree += pred.data<int64_t>()[i - b] == expected.data<int64_t>()[i];
      correct += pred.data<int64_t>()[i - b] == labels.data<int64_t>()[i];
    }
  }
  EXPECT_GE(static_cast<double>(agree) / n, 0.995) << agree << "/" << n;
  std::printf("[akamaster resnet%d] %lld/%lld predictions agree with PyTorch; accuracy %.4f on every 10th JPEG\n",
              depth, static_cast<long long>(agree), static_cast<long long>(n), static_cast<double>(correct) / n);
}

INSTANTIATE_TEST_SUITE_P(Shared, Akamaster, ::testing::Values(20, 56));

}  // namespace
}  // namespace sc::test
