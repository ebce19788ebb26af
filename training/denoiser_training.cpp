#include "training/denoiser_training.h"

#include <cmath>
#include <optional>
#include <sstream>

#include "kernels/argmax.h"
#include "kernels/channel_sums.h"
#include "kernels/elementwise.h"
#include "smoothing/noise.h"

namespace sc::training {

namespace {

using Objective = DenoiserTrainOptions::Objective;

// Sums over a pass: the batch losses weighted by their images (Salman et al.'s AverageMeter), the hits.
struct DenoiserTotals {
  double loss = 0, correct = 0;
  int64_t images = 0;
  DenoiserLoss mean(bool with_accuracy) const {
    const double n = static_cast<double>(images);
    return {loss / n, with_accuracy ? 100.0 * correct / n : -1.0};
  }
};

// denoiser_batch_loss, its sums added to `totals`.
void denoiser_batch(Classifier& denoiser, Classifier* classifier, const Tensor& clean, const Tensor& noisy,
                    const std::vector<int64_t>& labels, Objective objective, ParameterGradients* grads,
                    DenoiserTotals& totals) {
  const int64_t rows = clean.size(0);
  Tensor out;
  {
    std::optional<TrainingMode> training;
    std::optional<RecordForBackward> record;
    if (grads) training.emplace(), record.emplace();
    out = denoiser.forward(noisy);
  }
  Tensor dout;  // ∂(batch loss)/∂out
  if (objective == Objective::Denoising) {
    // Mean squared error over every element, and its gradient 2(out − x)/n, on the device: only the rows'
    // sums of squares (summed in double) come to the host.
    const double n = static_cast<double>(out.numel());
    const Tensor d = ops::combine(1.0f, out, -1.0f, clean, -INFINITY, INFINITY);
    const std::vector<float> row_sums =
        ops::channel_sums(ops::mul(d, d).reshape({1, rows, out.numel() / rows})).cpu().to_float_vector();
    double sum = 0;
    for (float r : row_sums) sum += r;
    totals.loss += sum / n * static_cast<double>(rows);
    if (grads) dout = ops::affine(d, static_cast<float>(2.0 / n), 0.0f);
  } else {
    // The frozen classifier at inference: its input gradient, no parameter gradients (no sink is active).
    std::vector<int64_t> targets = labels;
    if (objective == Objective::Stability) {
      const Tensor clean_predictions = ops::argmax(classifier->forward(clean)).cpu();
      targets.assign(clean_predictions.data<int64_t>(), clean_predictions.data<int64_t>() + rows);
    }
    const attacks::LossGradient r =
        attacks::loss_gradient(*classifier, out, mean_cross_entropy(targets), grads != nullptr);
    for (int64_t k = 0; k < rows; ++k) {
      totals.loss += r.loss[static_cast<size_t>(k)];
      totals.correct += r.predictions[static_cast<size_t>(k)] == targets[static_cast<size_t>(k)] ? 1.0 : 0.0;
    }
    dout = r.grad;
  }
  totals.images += rows;
  if (grads) {
    AccumulateParameterGradients into(*grads);
    denoiser.backward(dout);
  }
}

void check_classifier(const Classifier* classifier, const Classifier& denoiser,
                      const DenoiserTrainOptions& o) {
  if (o.objective == Objective::Denoising) return;
  SC_CHECK(classifier != nullptr, "train-denoiser: the ", objective_name(o.objective),
           " objective trains through a classifier: give --classifier");
  SC_CHECK(classifier->spec.channels == denoiser.spec.channels &&
               classifier->spec.height == denoiser.spec.height &&
               classifier->spec.width == denoiser.spec.width,
           "train-denoiser: the classifier takes ", classifier->spec.channels, "x", classifier->spec.height,
           "x", classifier->spec.width, " images, the denoiser ", denoiser.spec.channels, "x",
           denoiser.spec.height, "x", denoiser.spec.width);
}

std::vector<int64_t> labels_if_needed(const io::Dataset& data, const std::vector<int64_t>& ids, size_t b0,
                                      size_t b1, const Classifier* classifier, Objective objective) {
  if (objective != Objective::Classification) return {};
  return batch_labels(data, ids, b0, b1, classifier->spec.num_classes);
}

}  // namespace

DenoiserLoss denoiser_batch_loss(Classifier& denoiser, Classifier* classifier, const Tensor& clean,
                                 const Tensor& noisy, const std::vector<int64_t>& labels, Objective objective,
                                 ParameterGradients* grads) {
  DenoiserTotals totals;
  denoiser_batch(denoiser, classifier, clean, noisy, labels, objective, grads, totals);
  return totals.mean(objective != Objective::Denoising);
}

DenoiserTrainOptions::Objective parse_objective(const std::string& name) {
  if (name == "denoising") return Objective::Denoising;
  if (name == "classification") return Objective::Classification;
  if (name == "stability") return Objective::Stability;
  SC_FAIL("train-denoiser: --objective must be denoising, classification or stability, got '", name, "'");
}

const char* objective_name(Objective objective) {
  switch (objective) {
    case Objective::Denoising:
      return "denoising";
    case Objective::Classification:
      return "classification";
    case Objective::Stability:
      return "stability";
  }
  return "?";
}

std::string DenoiserTrainOptions::describe() const {
  std::ostringstream s;
  s << "denoiser objective=" << objective_name(objective) << " optimizer=" << (adam ? "adam" : "sgd");
  if (adam)
    s << " beta1=" << adam_params.beta1 << " beta2=" << adam_params.beta2 << " eps=" << adam_params.eps;
  return s.str() + " " + schedule.describe(!adam);
}

void DenoiserTrainOptions::check() const {
  schedule.check();
  // Without noise only the denoising objective means something: an autoencoder learning to reconstruct.
  SC_CHECK(schedule.noise_sd > 0 || objective == Objective::Denoising, "train-denoiser: the ",
           objective_name(objective),
           " objective trains a denoiser to remove noise: give --noise-sd (only the denoising objective, an "
           "autoencoder's reconstruction, takes 0)");
  SC_CHECK(schedule.adversarial == TrainOptions::Adversarial::None && schedule.ibp_eps == 0 &&
               schedule.consistency_lambda == 0 && schedule.macer_lambda == 0,
           "train-denoiser: the classifier training methods do not apply to a denoiser");
  if (adam) {
    AdamParams p = adam_params;
    p.lr = schedule.sgd.lr, p.weight_decay = schedule.sgd.weight_decay;
    Adam check_adam(p);
  }
}

std::unique_ptr<Optimizer> make_optimizer(const DenoiserTrainOptions& o) {
  if (!o.adam) return std::make_unique<Sgd>(o.schedule.sgd);
  AdamParams p = o.adam_params;
  p.lr = o.schedule.sgd.lr, p.weight_decay = o.schedule.sgd.weight_decay;
  return std::make_unique<Adam>(p);
}

DenoiserLoss train_denoiser_epoch(Classifier& denoiser, Optimizer& optimizer,
                                  const std::vector<Classifier*>& classifiers, const io::Dataset& data,
                                  const std::vector<int64_t>& ids, const DenoiserTrainOptions& options,
                                  int64_t epoch, const ProgressFn& progress) {
  SC_CHECK(!ids.empty(), "train-denoiser: no training images");
  if (classifiers.empty())
    check_classifier(nullptr, denoiser, options);  // fails for the classifier objectives
  for (const Classifier* c : classifiers) check_classifier(c, denoiser, options);
  const TrainOptions& o = options.schedule;
  const std::vector<int64_t> order = epoch_order(ids, o.seed, epoch);
  const double lr = step_learning_rate(o.sgd.lr, o.gamma, o.lr_step, epoch);
  const Device device = denoiser.device();
  DenoiserTotals totals;
  ParameterGradients grads;
  const size_t n = order.size(), batch = static_cast<size_t>(o.batch);
  for (size_t b0 = 0, index = 0; b0 < n; b0 += batch, ++index) {
    const size_t b1 = std::min(n, b0 + batch);
    // Several classifiers take turns, one per batch (Salman et al.'s surrogate models).
    Classifier* classifier = classifiers.empty() ? nullptr : classifiers[index % classifiers.size()];
    const std::vector<int64_t> labels = labels_if_needed(data, order, b0, b1, classifier, options.objective);
    const Tensor x = augmented_batch(data, order, b0, b1, o, epoch).to(device);
    grads.clear();
    denoiser_batch(denoiser, classifier, x,
                   noisy_batch(x, o, epoch, noise::kTraining, static_cast<int64_t>(index)), labels,
                   options.objective, &grads, totals);
    SC_CHECK(std::isfinite(totals.loss), "train-denoiser: the loss is not finite at epoch ", epoch,
             ", batch ", index, " (the training diverged: try a smaller --lr)");
    optimizer.step(denoiser, grads, lr);
    if (progress) progress(static_cast<int64_t>(b1), static_cast<int64_t>(n));
  }
  return totals.mean(options.objective != Objective::Denoising);
}

DenoiserLoss evaluate_denoiser(Classifier& denoiser, Classifier* classifier, const io::Dataset& data,
                               const std::vector<int64_t>& ids, const DenoiserTrainOptions& options,
                               int64_t epoch, const ProgressFn& progress) {
  SC_CHECK(!ids.empty(), "train-denoiser: no test images");
  check_classifier(classifier, denoiser, options);
  const TrainOptions& o = options.schedule;
  DenoiserTotals totals;
  const size_t n = ids.size(), batch = static_cast<size_t>(o.batch);
  for (size_t b0 = 0, index = 0; b0 < n; b0 += batch, ++index) {
    const size_t b1 = std::min(n, b0 + batch);
    const std::vector<int64_t> labels = labels_if_needed(data, ids, b0, b1, classifier, options.objective);
    const Tensor x =
        io::read_batch(data, ids, static_cast<int64_t>(b0), static_cast<int64_t>(b1)).to(denoiser.device());
    denoiser_batch(denoiser, classifier, x,
                   noisy_batch(x, o, epoch, noise::kTrainingEvaluation, static_cast<int64_t>(index)), labels,
                   options.objective, nullptr, totals);
    if (progress) progress(static_cast<int64_t>(b1), static_cast<int64_t>(n));
  }
  return totals.mean(options.objective != Objective::Denoising);
}

}  // namespace sc::training
