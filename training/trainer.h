// Training a classifier from a dataset, as the reference training scripts do (Cohen et al.'s train.py): SGD
// with momentum and weight decay, a step learning-rate schedule, cross-entropy averaged over each batch, and
// Gaussian data augmentation x + N(0, σ²) on [0, 1] inputs (--noise-sd), after an optional random crop and
// flip. Adversarial training (Madry et al. 2018) replaces each batch's images by PGD or FGSM examples made
// against the current model (at inference: BatchNorm's running statistics) before the noise is added.
// SmoothAdv training (Salman et al. 2019) attacks the smoothed soft classifier instead (m noise draws per
// image, σ = noise_sd) and trains on the m noisy copies of each adversarial image, with the noise the attack
// saw. Every
// random draw is counter-based (the order of each epoch, the crops, the noise), so a run is a function of its
// options and seed, and a resumed run repeats what the interrupted one would have done.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "attacks/loss_gradient.h"
#include "attacks/pgd.h"
#include "attacks/smoothadv.h"
#include "io/dataset.h"
#include "kernels/sgd_step.h"
#include "nn/models/registry.h"
#include "training/sgd.h"

namespace sc::training {

struct TrainOptions {
  int64_t epochs = 90, batch = 256;
  SgdParams sgd{0.1, 0.9, 1e-4, false};
  int64_t lr_step = 30;  // StepLR
  double gamma = 0.1;
  double noise_sd = 0.0;
  int64_t crop_pad = 0;  // 0: no random crop
  bool flip = false;
  uint64_t seed = 0;
  // Adversarial training: the attack each batch is replaced by (its seed is derived from `seed` and the
  // epoch).
  enum class Adversarial { None, Pgd, SmoothAdv } adversarial = Adversarial::None;
  attacks::PgdOptions attack;           // Pgd (FGSM: one step)
  attacks::SmoothAdvOptions smoothadv;  // SmoothAdv (its sigma is noise_sd)
  // SmoothAdv's warm-up (Salman et al.; Jeong & Shin: 10 epochs): epoch e attacks within
  // min(ε, (e + 1)·ε/E), E = smoothadv_warmup (0 or 1: the full ε from the start).
  int64_t smoothadv_warmup = 0;
  double smoothadv_radius(int64_t epoch) const;
  // SmoothAdv trains on all m noisy copies of each adversarial image (Salman et al.'s --train-multi-noise),
  // or with smoothadv_first_copy on its first copy alone (their default): the attack still sees all m.
  bool smoothadv_first_copy = false;
  // ProoD's detector training (Meinke et al. 2022): with ibp_eps > 0, a two-class model (1 = in, 0 = out)
  // also learns a guarantee on the out-distribution images: each class-0 image of a batch adds ibp_weight ×
  // the cross-entropy of its worst-case logits over its ℓ∞ ball (interval bound propagation: class 0 at its
  // lower bound, class 1 at its upper, softplus(u₁ − l₀); Gowal et al. 2018), averaged over the batch.
  // ε grows linearly from 0 over the first ibp_warmup epochs (batch by batch), as IBP training needs
  // (Gowal et al.; ProoD's ε schedule): the full ball from the first step leaves a detector that calls
  // everything "out".
  double ibp_eps = 0, ibp_weight = 1, ibp_warmup = 0;
  // Consistency regularization (Jeong & Shin 2020; training/consistency.h): with consistency_lambda > 0 the
  // loss adds λ·(mean KL from the noisy copies' mean prediction) + η·(its entropy). Jeong & Shin: m = 2,
  // λ = 10 or 20, η = 0.5.
  double consistency_lambda = 0, consistency_eta = 0.5;
  // MACER (Zhai et al. 2020; training/macer.h): with macer_lambda > 0 the loss is the smoothed soft
  // classifier's cross-entropy over the noisy copies + λ × a hinge (γ) on its certified radius, from
  // softmaxes at inverse temperature β. Zhai et al. on CIFAR-10: m = 16, λ = 12 (σ = 0.25, 0.5) or 4 (σ = 1),
  // γ = 8, β = 16. From scratch the radius term can collapse a network onto one class before it has learned
  // anything: its gradient reinforces whichever class already leads. The reference code does the same (LeNet
  // on Fashion-MNIST at λ = 12); fine-tuning a noise-trained model (--init) at a smaller λ works.
  double macer_lambda = 0, macer_gamma = 8, macer_beta = 16;
  // Both train each image as m noisy copies (σ = noise_sd); 0 takes the method's default (consistency 2,
  // MACER 16). Consistency also combines with SmoothAdv (Jeong & Shin's other setting): the term then spans
  // the m noisy copies of each adversarial image, m = smoothadv.m.
  int64_t copies = 0;
  int64_t copies_per_image() const;  // smoothadv.m for SmoothAdv, else m, or 1 when neither method is on
  // Every option but the number of epochs on one line: a checkpoint records it, and a resumed run must match
  // it (a resumed run may ask for more epochs: the schedule does not depend on their number). Without
  // `sgd_momentum` it leaves out SGD's momentum and Nesterov flag (another optimizer runs the schedule).
  std::string describe(bool sgd_momentum = true) const;
  void check() const;  // fails naming the option out of range
};

struct LossAccuracy {
  double loss = 0;      // mean cross-entropy (in training, plus the weighted worst-case term of ibp_eps)
  double accuracy = 0;  // percent correct (Cohen's logs)
};

// Building blocks of the training loops (this one and training/denoiser_training.h):
// Cross-entropy averaged over the batch's rows (the scale of PyTorch's CrossEntropyLoss).
attacks::LogitsLoss mean_cross_entropy(const std::vector<int64_t>& labels);
// The labels of ids[b0..b1) of `data`; fails on a label outside [0, classes).
std::vector<int64_t> batch_labels(const io::Dataset& data, const std::vector<int64_t>& ids, size_t b0,
                                  size_t b1, int64_t classes);
// Images order[b0..b1) of `data` as a batch on the CPU, randomly cropped and flipped as the options say.
Tensor augmented_batch(const io::Dataset& data, const std::vector<int64_t>& order, size_t b0, size_t b1,
                       const TrainOptions& o, int64_t epoch);
// x + σ·noise when noise_sd > 0, under (seed, epoch, phase): `copies` noisy copies of the whole batch
// ([B, ...] → [copies·B, ...], copy j of image b at row j·B + b; consistency and MACER training take
// several), samples copies·index … copies·index + copies − 1, index = the batch's index within the epoch.
Tensor noisy_batch(const Tensor& x, const TrainOptions& o, int64_t epoch, uint32_t phase, int64_t batch_index,
                   int64_t copies = 1);

// The order of epoch `epoch`'s images: a permutation of `ids` drawn from (seed, epoch).
std::vector<int64_t> epoch_order(const std::vector<int64_t>& ids, uint64_t seed, int64_t epoch);

// Called with (images done, images in all) after each batch.
using ProgressFn = std::function<void(int64_t, int64_t)>;

// One epoch of SGD over `ids` of `data` (batches in epoch_order, the last one smaller) on the model's device,
// the model in training mode (BatchNorm on batch statistics). The learning rate is the schedule's for
// `epoch`. Returns the training loss and accuracy, on the augmented inputs.
LossAccuracy train_epoch(Classifier& model, Sgd& sgd, const io::Dataset& data,
                         const std::vector<int64_t>& ids, const TrainOptions& options, int64_t epoch,
                         const ProgressFn& progress = {});

// Mean cross-entropy and accuracy of the model at inference (BatchNorm's running statistics) on `ids`, with
// N(0, noise_sd²) added as in training (as Cohen's test loop does; fixed noise per epoch), no crops.
LossAccuracy evaluate(Classifier& model, const io::Dataset& data, const std::vector<int64_t>& ids,
                      const TrainOptions& options, int64_t epoch, const ProgressFn& progress = {});

}  // namespace sc::training
