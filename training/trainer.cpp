#include "training/trainer.h"

#include <charconv>
#include <cmath>
#include <random>
#include <sstream>

#include "attacks/loss_gradient.h"
#include "kernels/gaussian_noise.h"
#include "nn/interval.h"
#include "nn/log_math.h"
#include "smoothing/noise.h"
#include "training/augment.h"
#include "training/consistency.h"
#include "training/macer.h"

namespace sc::training {

attacks::LogitsLoss mean_cross_entropy(const std::vector<int64_t>& labels) {
  const attacks::LogitsLoss sum = attacks::cross_entropy(labels);
  return [sum](const std::vector<double>& z, int64_t rows, int64_t classes, std::vector<double>& loss,
               std::vector<double>& dz) {
    sum(z, rows, classes, loss, dz);
    for (double& g : dz) g /= static_cast<double>(rows);
  };
}

std::vector<int64_t> batch_labels(const io::Dataset& data, const std::vector<int64_t>& ids, size_t b0,
                                  size_t b1, int64_t classes) {
  std::vector<int64_t> labels;
  for (size_t k = b0; k < b1; ++k) {
    const int64_t y = data.label(ids[k]);
    SC_CHECK(y >= 0 && y < classes, "train: image ", ids[k], " of ", data.name(), " has label ", y,
             ", outside the model's ", classes, " classes (unlabeled data cannot train a classifier)");
    labels.push_back(y);
  }
  return labels;
}

Tensor augmented_batch(const io::Dataset& data, const std::vector<int64_t>& order, size_t b0, size_t b1,
                       const TrainOptions& o, int64_t epoch) {
  const Tensor images = io::read_batch(data, order, static_cast<int64_t>(b0), static_cast<int64_t>(b1));
  if (o.crop_pad == 0 && !o.flip) return images;
  const std::vector<int64_t> ids(order.begin() + static_cast<std::ptrdiff_t>(b0),
                                 order.begin() + static_cast<std::ptrdiff_t>(b1));
  return crop_and_flip(images, ids, o.crop_pad, o.flip, o.seed, epoch);
}

Tensor noisy_batch(const Tensor& x, const TrainOptions& o, int64_t epoch, uint32_t phase, int64_t batch_index,
                   int64_t copies) {
  if (o.noise_sd == 0) return x;
  const NoiseKey key{o.seed, static_cast<uint32_t>(epoch), phase};
  Shape rows = x.shape();
  rows[0] *= copies;
  return ops::add_gaussian_noise(x, copies, static_cast<float>(o.noise_sd), key,
                                 static_cast<uint32_t>(batch_index * copies))
      .reshape(rows);
}

namespace {

// The labels of m copy-major copies of a batch.
std::vector<int64_t> copy_major(const std::vector<int64_t>& labels, int64_t m) {
  std::vector<int64_t> rows;
  for (int64_t j = 0; j < m; ++j) rows.insert(rows.end(), labels.begin(), labels.end());
  return rows;
}

// Sums over rows: the loss, the correct predictions, the rows.
struct Totals {
  double loss = 0, correct = 0;
  size_t rows = 0;
  void add_loss(double sum) { loss += sum; }
  void add(const attacks::LossGradient& r, const std::vector<int64_t>& labels) {
    for (size_t k = 0; k < labels.size(); ++k) {
      loss += r.loss[k];
      correct += r.predictions[k] == labels[k] ? 1.0 : 0.0;
    }
    rows += labels.size();
  }
  LossAccuracy mean() const {
    return {loss / static_cast<double>(rows), 100.0 * correct / static_cast<double>(rows)};
  }
};

// ProoD's guarantee term (TrainOptions::ibp_eps) for one batch: bounds of the class-0 images' balls, and
// through their backward the gradients of weight·Σ softplus(u₁ − l₀) / rows into the caller's sink. Returns
// that weighted sum times rows (the batch's share of the summed loss).
double worst_case_out_loss(Classifier& model, const Tensor& images, const std::vector<int64_t>& labels,
                           const TrainOptions& o, double eps) {
  const int64_t rows = static_cast<int64_t>(labels.size()), per_image = images.numel() / rows;
  std::vector<float> out;
  for (int64_t k = 0; k < rows; ++k)
    if (labels[static_cast<size_t>(k)] == 0)
      out.insert(out.end(), images.data<float>() + k * per_image, images.data<float>() + (k + 1) * per_image);
  const int64_t m = static_cast<int64_t>(out.size()) / per_image;
  if (m == 0) return 0.0;
  Shape shape = images.shape();
  shape[0] = m;
  RecordForBackward record;
  const Interval b = model.bounds(linf_box(Tensor::from_vector(out, shape).to(model.device()), eps));
  const std::vector<float> lo = b.lower.cpu().to_float_vector(), up = b.upper.cpu().to_float_vector();
  std::vector<float> g_lower(lo.size(), 0.0f), g_upper(up.size(), 0.0f);
  const double weight = o.ibp_weight / static_cast<double>(rows);
  double sum = 0.0;
  for (int64_t i = 0; i < m; ++i) {
    const double t = static_cast<double>(up[2 * i + 1]) - lo[2 * i];
    SC_CHECK(std::isfinite(t), "train: --ibp-eps at ", eps,
             ": the interval bounds of an out-distribution image overflowed (try a smaller ε or a longer "
             "--ibp-warmup)");
    sum += softplus(t);
    const double slope = weight / (1.0 + std::exp(-t));  // weight·σ(t)
    g_lower[2 * i] = static_cast<float>(-slope);
    g_upper[2 * i + 1] = static_cast<float>(slope);
  }
  model.bounds_backward({Tensor::from_vector(g_lower, b.lower.shape()).to(model.device()),
                         Tensor::from_vector(g_upper, b.upper.shape()).to(model.device())});
  return o.ibp_weight * sum;
}

uint64_t epoch_seed(uint64_t seed, int64_t epoch) {  // an attack's random draws, anew each epoch
  return seed ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(epoch + 1));
}

}  // namespace

namespace {
// The shortest text that reads back as v (so equal options describe equally, and 0.1 reads "0.1").
std::string shortest(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}
}  // namespace

std::string TrainOptions::describe(bool sgd_momentum) const {
  std::ostringstream s;
  s << "batch=" << batch << " lr=" << shortest(sgd.lr);
  if (sgd_momentum) s << " momentum=" << shortest(sgd.momentum);
  s << " weight_decay=" << shortest(sgd.weight_decay);
  if (sgd_momentum) s << " nesterov=" << sgd.nesterov;
  s << " lr_step=" << lr_step << " gamma=" << shortest(gamma) << " noise_sd=" << shortest(noise_sd)
    << " crop_pad=" << crop_pad << " flip=" << flip << " seed=" << seed;
  if (adversarial == Adversarial::SmoothAdv) {
    s << " smoothadv" << (smoothadv.method == attacks::SmoothAdvOptions::Method::Ddn ? "-ddn" : "")
      << " eps=" << shortest(smoothadv.eps) << " steps=" << smoothadv.steps << " m=" << smoothadv.m;
    if (smoothadv_warmup > 1) s << " warmup=" << smoothadv_warmup;
    if (smoothadv_first_copy) s << " first-copy";
  }
  if (adversarial == Adversarial::Pgd)
    s << " attack=" << attacks::norm_name(attack.norm) << " eps=" << shortest(attack.eps)
      << " steps=" << attack.steps << " step_size=" << shortest(attack.step_size)
      << " random_start=" << attack.random_start;
  if (ibp_eps > 0)
    s << " ibp_eps=" << shortest(ibp_eps) << " ibp_weight=" << shortest(ibp_weight)
      << " ibp_warmup=" << shortest(ibp_warmup);
  if (consistency_lambda > 0)
    s << " consistency lambda=" << shortest(consistency_lambda) << " eta=" << shortest(consistency_eta)
      << " m=" << copies_per_image();
  if (macer_lambda > 0)
    s << " macer lambda=" << shortest(macer_lambda) << " gamma=" << shortest(macer_gamma)
      << " beta=" << shortest(macer_beta) << " m=" << copies_per_image();
  return s.str();
}

int64_t TrainOptions::copies_per_image() const {
  if (adversarial == Adversarial::SmoothAdv) return smoothadv_first_copy ? 1 : smoothadv.m;
  if (consistency_lambda > 0) return copies > 0 ? copies : 2;
  if (macer_lambda > 0) return copies > 0 ? copies : 16;
  return 1;
}

double TrainOptions::smoothadv_radius(int64_t epoch) const {
  if (smoothadv_warmup <= 1) return smoothadv.eps;
  return std::min(smoothadv.eps,
                  static_cast<double>(epoch + 1) * smoothadv.eps / static_cast<double>(smoothadv_warmup));
}

void TrainOptions::check() const {
  SC_CHECK(epochs >= 1, "train: --epochs must be at least 1, got ", epochs);
  SC_CHECK(batch >= 2, "train: --batch must be at least 2 (BatchNorm needs two values per channel), got ",
           batch);
  SC_CHECK(lr_step >= 1, "train: --lr-step-size must be at least 1, got ", lr_step);
  SC_CHECK(std::isfinite(gamma) && gamma > 0, "train: --gamma must be finite and positive, got ", gamma);
  SC_CHECK(std::isfinite(noise_sd) && noise_sd >= 0, "train: --noise-sd must be finite and ≥ 0, got ",
           noise_sd);
  SC_CHECK(crop_pad >= 0 && crop_pad <= 1024, "train: --crop-padding must be in [0, 1024], got ", crop_pad);
  Sgd check_sgd(sgd);
  if (adversarial == Adversarial::Pgd) attacks::check_options(attack);
  SC_CHECK(std::isfinite(ibp_eps) && ibp_eps >= 0 && std::isfinite(ibp_weight) && ibp_weight >= 0 &&
               std::isfinite(ibp_warmup) && ibp_warmup >= 0,
           "train: --ibp-eps, --ibp-weight and --ibp-warmup must be finite and ≥ 0, got ", ibp_eps, ", ",
           ibp_weight, " and ", ibp_warmup);
  SC_CHECK(ibp_eps == 0 || adversarial == Adversarial::None,
           "train: --ibp-eps does not combine with --adversarial");
  SC_CHECK(std::isfinite(consistency_lambda) && consistency_lambda >= 0 && std::isfinite(consistency_eta) &&
               consistency_eta >= 0,
           "train: --consistency and --consistency-eta must be finite and ≥ 0, got ", consistency_lambda,
           " and ", consistency_eta);
  SC_CHECK(copies >= 0, "train: the number of noisy copies per image must be ≥ 0 (0: the default), got ",
           copies);
  if (consistency_lambda > 0) {
    SC_CHECK(noise_sd > 0, "train: consistency regularization compares noisy copies: give --noise-sd");
    SC_CHECK(!smoothadv_first_copy,
             "train: --consistency spans the m noisy copies; --smoothadv-first-copy trains on one");
    SC_CHECK(copies_per_image() >= 2,
             "train: consistency regularization needs --m 2 or more noisy copies per image, got ",
             copies_per_image());
    SC_CHECK(adversarial != Adversarial::Pgd && ibp_eps == 0,
             "train: --consistency does not combine with --adversarial fgsm/pgd or --ibp-eps");
  }
  SC_CHECK(
      std::isfinite(macer_lambda) && macer_lambda >= 0 && std::isfinite(macer_gamma) && macer_gamma > 0 &&
          std::isfinite(macer_beta) && macer_beta > 0,
      "train: --macer must be finite and ≥ 0 and --macer-gamma and --macer-beta finite and positive, got ",
      macer_lambda, ", ", macer_gamma, " and ", macer_beta);
  if (macer_lambda > 0) {
    SC_CHECK(noise_sd > 0,
             "train: MACER certifies the smoothed classifier of the training noise: give --noise-sd");
    SC_CHECK(adversarial == Adversarial::None && ibp_eps == 0 && consistency_lambda == 0,
             "train: --macer does not combine with --adversarial, --ibp-eps or --consistency");
  }
  if (adversarial == Adversarial::SmoothAdv) {
    SC_CHECK(noise_sd > 0, "train: SmoothAdv training attacks the smoothed classifier: give --noise-sd");
    SC_CHECK(std::isfinite(smoothadv.eps) && smoothadv.eps > 0 && smoothadv.steps >= 1 && smoothadv.m >= 1,
             "train: SmoothAdv needs eps > 0, at least one step and one noise draw");
    SC_CHECK(smoothadv_warmup >= 0, "train: --attack-warmup must be ≥ 0, got ", smoothadv_warmup);
  } else {
    SC_CHECK(!smoothadv_first_copy, "train: --smoothadv-first-copy is for --adversarial smoothadv");
  }
}

std::vector<int64_t> epoch_order(const std::vector<int64_t>& ids, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order = ids;
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                    static_cast<uint32_t>(epoch), static_cast<uint32_t>(noise::kTraining)};
  std::mt19937_64 rng(seq);
  for (size_t i = order.size(); i > 1; --i) {  // Fisher–Yates, with the draws spelled out (portable)
    const size_t j = static_cast<size_t>(rng() % i);
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

LossAccuracy train_epoch(Classifier& model, Sgd& sgd, const io::Dataset& data,
                         const std::vector<int64_t>& ids, const TrainOptions& o, int64_t epoch,
                         const ProgressFn& progress) {
  SC_CHECK(!ids.empty(), "train: no training images");
  SC_CHECK(o.ibp_eps == 0 || model.spec.num_classes == 2,
           "train: --ibp-eps trains a detector of two classes (0 = out, 1 = in, as an inout: set gives), not "
           "a model of ",
           model.spec.num_classes);
  const std::vector<int64_t> order = epoch_order(ids, o.seed, epoch);
  const double lr = step_learning_rate(o.sgd.lr, o.gamma, o.lr_step, epoch);
  const Device device = model.device();
  const int64_t copies = o.copies_per_image();
  Totals total;
  ParameterGradients grads;
  const size_t n = order.size(), batch = static_cast<size_t>(o.batch);
  for (size_t b0 = 0, index = 0; b0 < n; b0 += batch, ++index) {
    const size_t b1 = std::min(n, b0 + batch);
    std::vector<int64_t> labels = batch_labels(data, order, b0, b1, model.spec.num_classes);
    const std::vector<int64_t> batch_ids(order.begin() + static_cast<std::ptrdiff_t>(b0),
                                         order.begin() + static_cast<std::ptrdiff_t>(b1));
    const Tensor images = augmented_batch(data, order, b0, b1, o, epoch);
    Tensor x = images.to(device);
    if (o.adversarial == TrainOptions::Adversarial::Pgd) {
      attacks::PgdOptions attack = o.attack;
      attack.seed = epoch_seed(o.seed, epoch);
      x = attacks::pgd_attack(model, x, labels, batch_ids, attack).adversarial;
    }
    // x becomes the batch's rows: `copies` noisy copies of each image, image-major for SmoothAdv (the copies
    // of its adversarial images with the noise its attack saw), copy-major otherwise.
    const bool image_major = o.adversarial == TrainOptions::Adversarial::SmoothAdv;
    std::vector<int64_t> row_labels;  // one per row of x
    if (image_major) {
      attacks::SmoothAdvOptions attack = o.smoothadv;
      attack.sigma = o.noise_sd, attack.seed = epoch_seed(o.seed, epoch);
      attack.eps = o.smoothadv_radius(epoch);
      x = attacks::smoothadv_noisy_copies(
          attacks::smoothadv_attack(model, x, labels, batch_ids, attack).adversarial, batch_ids, attack);
      if (o.smoothadv_first_copy) {  // [n·m, …] image-major → each image's first copy
        const Shape& s = images.shape();
        x = x.reshape({s[0], attack.m, s[1], s[2], s[3]}).slice(1, 0, 1).contiguous().reshape(s);
      }
      for (int64_t y : labels) row_labels.insert(row_labels.end(), static_cast<size_t>(copies), y);
    } else {
      x = noisy_batch(x, o, epoch, noise::kTraining, static_cast<int64_t>(index), copies);
      row_labels = copy_major(labels, copies);
    }
    const attacks::LogitsLoss loss =
        o.consistency_lambda > 0
            ? consistency_loss(labels, copies, o.consistency_lambda, o.consistency_eta, image_major)
        : o.macer_lambda > 0
            ? macer_loss(labels, copies, {o.noise_sd, o.macer_lambda, o.macer_gamma, o.macer_beta})
            : mean_cross_entropy(row_labels);
    grads.clear();
    attacks::LossGradient r;
    {
      TrainingMode training;
      AccumulateParameterGradients into(grads);
      r = attacks::loss_gradient(model, x, loss);
    }
    if (o.ibp_eps > 0) {
      AccumulateParameterGradients into(grads);
      const double ramp = (static_cast<double>(epoch) + static_cast<double>(b0) / static_cast<double>(n)) /
                          std::max(o.ibp_warmup, 1e-300);  // epochs done over the warm-up's, ≥ 1 after it
      total.add_loss(worst_case_out_loss(model, images, labels, o, o.ibp_eps * std::min(1.0, ramp)));
    }
    sgd.step(model, grads, lr);
    total.add(r, row_labels);
    if (progress) progress(static_cast<int64_t>(b1), static_cast<int64_t>(n));
  }
  return total.mean();
}

LossAccuracy evaluate(Classifier& model, const io::Dataset& data, const std::vector<int64_t>& ids,
                      const TrainOptions& o, int64_t epoch, const ProgressFn& progress) {
  SC_CHECK(!ids.empty(), "train: no test images");
  const Device device = model.device();
  Totals total;
  const size_t n = ids.size(), batch = static_cast<size_t>(o.batch);
  for (size_t b0 = 0, index = 0; b0 < n; b0 += batch, ++index) {
    const size_t b1 = std::min(n, b0 + batch);
    const std::vector<int64_t> labels = batch_labels(data, ids, b0, b1, model.spec.num_classes);
    const Tensor images = io::read_batch(data, ids, static_cast<int64_t>(b0), static_cast<int64_t>(b1));
    const Tensor x =
        noisy_batch(images.to(device), o, epoch, noise::kTrainingEvaluation, static_cast<int64_t>(index));
    total.add(attacks::loss_gradient(model, x, mean_cross_entropy(labels), false), labels);
    if (progress) progress(static_cast<int64_t>(b1), static_cast<int64_t>(n));
  }
  return total.mean();
}

}  // namespace sc::training
