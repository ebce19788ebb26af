// Training denoisers for denoised smoothing (training/denoiser_training.h): each objective's batch gradients
// against PyTorch, the input gradient through a denoiser for attacks, stability as classification against the
// clean predictions, and short real runs on Fashion-MNIST: the denoising objective removes most of the noise,
// and the stability objective then makes a classifier that never saw noise agree more often with itself.
#include <cmath>

#include "attacks/loss_gradient.h"
#include "io/dataset.h"
#include "io/npy.h"
#include "kernels/argmax.h"
#include "kernels/gaussian_noise.h"
#include "nn/models/denoisers.h"
#include "nn/models/random_init.h"
#include "nn/state_dict.h"
#include "smoothing/noise.h"
#include "test_util.h"
#include "training/denoiser_training.h"
#include "weights_tools/convert.h"

namespace sc::test {
namespace {

using Objective = training::DenoiserTrainOptions::Objective;

std::unique_ptr<Classifier> small_dncnn(int64_t channels, int64_t height, int64_t width, int64_t depth,
                                        int64_t features) {
  ModelSpec spec;
  spec.arch = "dncnn";
  spec.num_classes = 0;
  spec.channels = channels, spec.height = height, spec.width = width;
  spec.flags = {{"depth", std::to_string(depth)}, {"width", std::to_string(features)}};
  return build_model(spec);
}

// tests/fixtures/checkpoints/dncnn_objectives.safetensors, made by PyTorch: a DnCNN of depth 3 and width 4
// and an MLP classifier (hidden 8, 3 classes) on 1×6×6 images, their weights loaded, and the reference
// values.
struct ObjectivesFixture {
  io::Safetensors ref;
  std::unique_ptr<Classifier> denoiser, classifier;
  std::vector<int64_t> labels;
};

ObjectivesFixture objectives_fixture() {
  ObjectivesFixture f{io::read_safetensors(fixture_dir() + "/checkpoints/dncnn_objectives.safetensors"),
                      small_dncnn(1, 6, 6, 3, 4),
                      nullptr,
                      {}};
  ModelSpec mlp;
  mlp.arch = "mlp", mlp.num_classes = 3, mlp.channels = 1, mlp.height = 6, mlp.width = 6;
  mlp.flags["hidden"] = "8";
  f.classifier = build_model(mlp);
  for (auto& [prefix, model] : {std::pair<std::string, Classifier*>{"denoiser.", f.denoiser.get()},
                                std::pair<std::string, Classifier*>{"classifier.", f.classifier.get()}}) {
    StateDict weights;
    for (const auto& [key, t] : f.ref.tensors)
      if (key.rfind(prefix, 0) == 0) weights.emplace_back(key.substr(prefix.size()), t);
    load_state_dict(*model, weights, prefix);
  }
  const Tensor& labels = f.ref.at("labels");
  f.labels.assign(labels.data<int64_t>(), labels.data<int64_t>() + labels.numel());
  return f;
}

// Salman et al.'s three objectives against PyTorch in float64 (objectives_fixture): the DnCNN in training
// mode in front of the MLP at inference, each objective's loss and every denoiser parameter's gradient. The
// classifier receives no gradient and keeps its weights; stability is classification against the
// classifier's clean predictions.
TEST(DenoiserTraining, ObjectivesMatchPyTorch) {
  ObjectivesFixture f = objectives_fixture();
  const io::Safetensors& ref = f.ref;
  Classifier* denoiser = f.denoiser.get();
  Classifier* classifier = f.classifier.get();
  const std::vector<int64_t>& labels = f.labels;
  const std::vector<float> classifier_before = state_dict(*classifier)[0].second.to_float_vector();
  const Tensor& clean = ref.at("clean");
  const Tensor& noisy = ref.at("noisy");
  for (Objective objective : {Objective::Denoising, Objective::Classification, Objective::Stability}) {
    const std::string name = training::objective_name(objective);
    SCOPED_TRACE(name);
    ParameterGradients grads;
    const training::DenoiserLoss r =
        training::denoiser_batch_loss(*denoiser, classifier, clean, noisy, labels, objective, &grads);
    EXPECT_NEAR(r.loss, ref.at(name + ".loss").to_float_vector()[0], 1e-5 * r.loss);
    EXPECT_EQ(r.accuracy < 0, objective == Objective::Denoising);
    int checked = 0;
    for (auto& [key, tensor] : denoiser->named_tensors()) {
      const Tensor* g = grads.find(*tensor);
      if (g == nullptr) continue;
      EXPECT_TRUE(allclose(*g, ref.at(name + ".grad." + key), 1e-4)) << key;
      ++checked;
    }
    EXPECT_EQ(checked, 6);  // 3 convolution weights, 1 bias, BatchNorm's γ and β
    EXPECT_EQ(grads.size(), 6u);
  }
  EXPECT_EQ(state_dict(*classifier)[0].second.to_float_vector(), classifier_before);
  const Tensor predicted = ops::argmax(classifier->forward(clean));
  const std::vector<int64_t> own(predicted.data<int64_t>(), predicted.data<int64_t>() + 3);
  ParameterGradients a, b;
  const auto stability =
      training::denoiser_batch_loss(*denoiser, classifier, clean, noisy, {}, Objective::Stability, &a);
  const auto classification =
      training::denoiser_batch_loss(*denoiser, classifier, clean, noisy, own, Objective::Classification, &b);
  EXPECT_EQ(stability.loss, classification.loss);
  EXPECT_EQ(stability.accuracy, classification.accuracy);
}

// Attacks through a denoiser (denoised_network): the logits of classifier(denoiser(x)) and the input gradient
// of the summed cross-entropy through both, at inference, against PyTorch in float64. The classifier keeps
// its own normalization, and the wrong pairings are refused.
TEST(DenoisedNetwork, InputGradientThroughBothMatchesPyTorch) {
  ObjectivesFixture f = objectives_fixture();
  const std::unique_ptr<Classifier> both = denoised_network(*f.denoiser, *f.classifier);
  EXPECT_EQ(both->spec.arch, "dncnn+mlp");
  EXPECT_EQ(both->spec.num_classes, 3);
  // Both models' tensors, under their own prefixes (device() and to() see them).
  EXPECT_EQ(both->named_tensors().size(),
            f.denoiser->named_tensors().size() + f.classifier->named_tensors().size());
  EXPECT_EQ(both->named_tensors()[0].first, "denoiser.dncnn.0.weight");
  const Tensor& noisy = f.ref.at("noisy");
  EXPECT_TRUE(allclose(both->forward(noisy), f.ref.at("through.logits"), 1e-5));
  const attacks::LossGradient g = attacks::loss_gradient(*both, noisy, attacks::cross_entropy(f.labels));
  EXPECT_TRUE(allclose(g.grad, f.ref.at("through.dx"), 1e-4));
  // Not the classifier's gradient alone: the denoiser changes it.
  EXPECT_FALSE(allclose(attacks::loss_gradient(*f.classifier, noisy, attacks::cross_entropy(f.labels)).grad,
                        f.ref.at("through.dx"), 0.05));

  ModelSpec normalized = f.classifier->spec;
  normalized.mean = {0.4f}, normalized.std = {0.2f};
  auto classifier = build_model(normalized);
  load_state_dict(*classifier, state_dict(*f.classifier), "the MLP");
  const Tensor denoised = f.denoiser->net->forward(noisy);
  EXPECT_TRUE(allclose(denoised_network(*f.denoiser, *classifier)->forward(noisy),
                       classifier->forward(denoised), 1e-6));

  EXPECT_ERROR_MENTIONS(denoised_network(*f.classifier, *f.denoiser), "'mlp' is not a denoiser network");
  EXPECT_ERROR_MENTIONS(denoised_network(*f.denoiser, *f.denoiser), "is a denoiser, not a classifier");
  ModelSpec rgb = f.classifier->spec;
  rgb.channels = 3;
  EXPECT_ERROR_MENTIONS(denoised_network(*f.denoiser, *build_model(rgb)), "takes 1-channel images");
}

// Interval bounds through Salman et al.'s denoisers (x − body(x), MemNet's memory and concatenations) and
// through classifier(denoiser(x)), on random weights: a box of radius 0 gives the forward pass, and random
// points and corners of the ℓ∞ box stay inside the bounds.
TEST(DenoisedNetwork, IntervalBoundsHoldThroughTheDenoiser) {
  auto denoiser = [](const std::string& arch, std::map<std::string, std::string> flags) {
    ModelSpec spec;
    spec.arch = arch, spec.num_classes = 0, spec.height = spec.width = 16, spec.flags = std::move(flags);
    auto model = build_model(spec);
    randomize_parameters(*model, 31);
    return model;
  };
  auto dncnn = denoiser("dncnn", {{"depth", "5"}, {"width", "8"}});
  auto memnet = denoiser("memnet", {{"width", "8"}, {"memory_blocks", "2"}, {"residual_blocks", "2"}});
  auto lenet = random_classifier("lenet", 3, 16, 10, 32);
  const Tensor x = random_images({2, 3, 16, 16}, 33);
  for (Classifier* d : {dncnn.get(), memnet.get()}) {
    SCOPED_TRACE(d->spec.arch);
    expect_interval_bounds_hold(*d, x, 1e-3);
    expect_interval_bounds_hold(*denoised_network(*d, *lenet), x, 1e-3);
  }
  // The bounds widen with ε, and a wider box holds the narrower one.
  const Interval narrow = dncnn->bounds(linf_box(x, 1e-3)), wide = dncnn->bounds(linf_box(x, 1e-2));
  const std::vector<float> nl = narrow.lower.to_float_vector(), wl = wide.lower.to_float_vector(),
                           nu = narrow.upper.to_float_vector(), wu = wide.upper.to_float_vector();
  for (size_t k = 0; k < nl.size(); ++k) {
    EXPECT_LE(wl[k], nl[k]);
    EXPECT_GE(wu[k], nu[k]);
  }
}

TEST(DenoiserTraining, OptionsAreChecked) {
  training::DenoiserTrainOptions o;
  o.schedule.noise_sd = 0;
  o.check();  // the denoising objective without noise: an autoencoder's reconstruction
  o.objective = training::DenoiserTrainOptions::Objective::Stability;
  EXPECT_ERROR_MENTIONS(o.check(), "stability objective", "give --noise-sd");
  o.objective = training::DenoiserTrainOptions::Objective::Denoising;
  o.schedule.noise_sd = 0.25;
  o.schedule.macer_lambda = 1;
  EXPECT_ERROR_MENTIONS(o.check(), "do not apply to a denoiser");
  o.schedule.macer_lambda = 0;
  o.adam_params.beta2 = 1.0;
  EXPECT_ERROR_MENTIONS(o.check(), "betas");
  EXPECT_ERROR_MENTIONS(training::parse_objective("mse"), "denoising, classification or stability");
  auto denoiser = small_dncnn(1, 6, 6, 3, 4);
  auto data = io::open_dataset("fake:4:1:6:6", {"train", ""});
  o.adam_params.beta2 = 0.999;
  o.objective = Objective::Stability;
  auto optimizer = training::make_optimizer(o);
  EXPECT_ERROR_MENTIONS(training::train_denoiser_epoch(*denoiser, *optimizer, {}, *data, {0, 1}, o, 0),
                        "give --classifier");
  // A step so large that the weights overflow: a clear error, not a NaN model.
  training::DenoiserTrainOptions diverging;
  diverging.schedule.noise_sd = 0.25, diverging.schedule.batch = 2, diverging.schedule.sgd.lr = 1e37;
  auto huge = training::make_optimizer(diverging);
  randomize_parameters(*denoiser, 8);
  EXPECT_ERROR_MENTIONS(
      {
        for (int64_t epoch = 0; epoch < 3; ++epoch)
          training::train_denoiser_epoch(*denoiser, *huge, {}, *data, {0, 1, 2, 3}, diverging, epoch);
      },
      "loss is not finite", "--lr");
  auto wide = random_classifier("mlp", 1, 8, 3, 4);
  EXPECT_ERROR_MENTIONS(
      training::train_denoiser_epoch(*denoiser, *optimizer, {wide.get()}, *data, {0, 1}, o, 0),
      "the classifier takes 1x8x8 images, the denoiser 1x6x6");
}

// Several classifiers take turns, one per batch: an epoch through {A, B} is the epoch's batches stepped
// through A, B, A, B (the same order, crops and noise), and differs from an epoch through A alone.
TEST(DenoiserTraining, SurrogateClassifiersTakeTurnsPerBatch) {
  auto data = io::open_dataset("fake:8:1:6:6", {"train", ""});
  const std::vector<int64_t> ids = {0, 1, 2, 3, 4, 5, 6, 7};
  auto a = random_classifier("mlp", 1, 6, 3, 4), b = random_classifier("mlp", 1, 6, 3, 5);
  training::DenoiserTrainOptions o;
  o.objective = Objective::Stability;
  o.schedule.noise_sd = 0.3, o.schedule.batch = 2, o.schedule.sgd.lr = 1e-2, o.schedule.seed = 9;
  auto fresh = [] {
    auto d = small_dncnn(1, 6, 6, 3, 4);
    randomize_parameters(*d, 6);
    return d;
  };
  auto both = fresh(), manual = fresh(), only_a = fresh();
  auto opt_both = training::make_optimizer(o), opt_manual = training::make_optimizer(o),
       opt_a = training::make_optimizer(o);
  training::train_denoiser_epoch(*both, *opt_both, {a.get(), b.get()}, *data, ids, o, 0);
  training::train_denoiser_epoch(*only_a, *opt_a, {a.get()}, *data, ids, o, 0);
  const std::vector<int64_t> order = training::epoch_order(ids, o.schedule.seed, 0);
  for (size_t b0 = 0, index = 0; b0 < order.size(); b0 += 2, ++index) {
    const Tensor x = training::augmented_batch(*data, order, b0, b0 + 2, o.schedule, 0);
    const Tensor noisy =
        training::noisy_batch(x, o.schedule, 0, noise::kTraining, static_cast<int64_t>(index));
    ParameterGradients grads;
    training::denoiser_batch_loss(*manual, index % 2 == 0 ? a.get() : b.get(), x, noisy, {}, o.objective,
                                  &grads);
    opt_manual->step(*manual, grads, o.schedule.sgd.lr);
  }
  const auto w_both = state_dict(*both), w_manual = state_dict(*manual), w_a = state_dict(*only_a);
  bool differs_from_a = false;
  for (size_t i = 0; i < w_both.size(); ++i) {
    EXPECT_TRUE(identical(w_both[i].second, w_manual[i].second)) << w_both[i].first;
    differs_from_a = differs_from_a || !identical(w_both[i].second, w_a[i].second);
  }
  EXPECT_TRUE(differs_from_a);
}

// Fashion-MNIST padded to 32×32 (as models/lenet_fmnist32_*.pt were trained): `count` images of `split`
// from index `first`, as an npy: dataset.
std::unique_ptr<io::Dataset> padded_fashion_mnist(const std::string& split, int64_t count) {
  auto data = io::open_dataset("fashion-mnist", {split, ""});
  std::vector<float> images(static_cast<size_t>(count * 32 * 32), 0.0f), row(28 * 28);
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < count; ++i) {
    data->read_image(i, row.data());
    for (int64_t y = 0; y < 28; ++y)
      for (int64_t x = 0; x < 28; ++x)
        images[static_cast<size_t>(i * 1024 + (y + 2) * 32 + x + 2)] = row[static_cast<size_t>(y * 28 + x)];
    labels.push_back(data->label(i));
  }
  const std::string x = temp_path("fmnist32_" + split + ".npy"),
                    y = temp_path("fmnist32_" + split + "_labels.npy");
  io::write_npy(x, Tensor::from_vector(images, {count, 1, 32, 32}));
  io::write_npy(y, Tensor::from_vector(labels, {count}));
  return io::open_dataset("npy:" + x + ":" + y, {split, ""});
}

// The denoising objective from Salman et al.'s start (the identity: a zero last layer) on 1,024 images for 2
// epochs: the held-out squared error falls from σ² (the identity's) to a fraction of it. Then one epoch of
// the stability objective through the LeNet trained without noise (models/lenet_fmnist32_clean.pt), against
// one more epoch of denoising from the same point: on held-out noisy images the stability-trained denoiser
// leaves the classifier closer to its clean predictions (a lower cross-entropy against them).
TEST(DenoiserTraining, LearnsToDenoiseThenStabilizesAClassifier) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed";
  auto train = padded_fashion_mnist("train", 1024), test = padded_fashion_mnist("test", 256);
  std::vector<int64_t> train_ids(1024), test_ids(256);
  for (int64_t i = 0; i < 1024; ++i) train_ids[static_cast<size_t>(i)] = i;
  for (int64_t i = 0; i < 256; ++i) test_ids[static_cast<size_t>(i)] = i;
  auto denoiser = small_dncnn(1, 32, 32, 5, 16);
  initialize_denoiser_for_training(*denoiser, 1);
  training::DenoiserTrainOptions o;
  o.schedule.batch = 32, o.schedule.noise_sd = 0.25, o.schedule.sgd.lr = 2e-3, o.schedule.seed = 2;
  const double identity = training::evaluate_denoiser(*denoiser, nullptr, *test, test_ids, o, 0).loss;
  EXPECT_NEAR(identity, 0.0625, 0.002);  // x + δ − x: the noise's variance
  auto adam = training::make_optimizer(o);
  for (int64_t epoch = 0; epoch < 2; ++epoch)
    training::train_denoiser_epoch(*denoiser, *adam, {}, *train, train_ids, o, epoch);
  const double denoised = training::evaluate_denoiser(*denoiser, nullptr, *test, test_ids, o, 2).loss;
  std::printf("held-out MSE: identity %.4f, denoised %.4f\n", identity, denoised);
  EXPECT_LT(denoised, 0.35 * identity);

  ConvertOptions co;
  co.dataset = "fashion-mnist", co.input_shape = {1, 32, 32}, co.mean = {0.2860f}, co.std = {0.3530f};
  auto lenet = load_any_model(fixture_dir() + "/../../models/lenet_fmnist32_clean.pt", Device::cpu(), co);
  // From the same denoiser, one more epoch of each objective at the same learning rate.
  training::DenoiserTrainOptions stability = o, denoising = o;
  stability.objective = Objective::Stability;
  stability.schedule.sgd.lr = denoising.schedule.sgd.lr = 1e-4;
  auto twin = small_dncnn(1, 32, 32, 5, 16);
  load_state_dict(*twin, state_dict(*denoiser), "the denoised-trained denoiser");
  const training::DenoiserLoss start =
      training::evaluate_denoiser(*denoiser, lenet.get(), *test, test_ids, stability, 0);
  auto stability_adam = training::make_optimizer(stability),
       denoising_adam = training::make_optimizer(denoising);
  training::train_denoiser_epoch(*denoiser, *stability_adam, {lenet.get()}, *train, train_ids, stability, 2);
  training::train_denoiser_epoch(*twin, *denoising_adam, {}, *train, train_ids, denoising, 2);
  const training::DenoiserLoss a = training::evaluate_denoiser(*denoiser, lenet.get(), *test, test_ids,
                                                               stability, 0),
                               b = training::evaluate_denoiser(*twin, lenet.get(), *test, test_ids, stability,
                                                               0);
  std::printf(
      "held-out stability loss (agreement with the clean predictions): start %.4f (%.2f%%), + stability "
      "%.4f (%.2f%%), + denoising %.4f (%.2f%%)\n",
      start.loss, start.accuracy, a.loss, a.accuracy, b.loss, b.accuracy);
  EXPECT_LT(a.loss, 0.95 * b.loss);
  EXPECT_GE(a.accuracy, b.accuracy);
}

}  // namespace
}  // namespace sc::test
