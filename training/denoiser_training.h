// Training a denoiser for denoised smoothing (Salman et al. 2020, their train_denoiser.py): the denoiser D
// sees x + N(0, σ²) (σ = noise_sd, on [0, 1] images) and learns one of three objectives:
//   denoising       ‖D(x + δ) − x‖² averaged over every element (PyTorch's MSELoss)
//   classification  the cross-entropy of a frozen classifier f (at inference) on D(x + δ) against the label
//   stability       the same against f's own prediction on the clean image, argmax f(x): no labels needed
// Salman et al.'s defaults are Adam at lr 1e-3 with weight decay 1e-4; their best recipe trains the denoising
// objective first and fine-tunes it with stability. Counter-based draws (order, crops, noise) as for
// classifiers (training/trainer.h): a run is a function of its options and seed.
#pragma once
#include <memory>
#include <string>

#include "training/adam.h"
#include "training/trainer.h"

namespace sc::training {

struct DenoiserTrainOptions {
  enum class Objective { Denoising, Classification, Stability } objective = Objective::Denoising;
  // epochs, batch, the learning rate and its StepLR schedule (sgd.lr, lr_step, gamma), weight decay
  // (sgd.weight_decay), noise_sd, crops and flips, seed; for --optimizer sgd also momentum and Nesterov.
  TrainOptions schedule;
  bool adam = true;              // else SGD with schedule.sgd
  AdamParams adam_params;        // betas and eps (lr and weight decay come from schedule.sgd)
  std::string describe() const;  // every option but the epochs, for the checkpoint
  void check() const;
};

DenoiserTrainOptions::Objective parse_objective(const std::string& name);
const char* objective_name(DenoiserTrainOptions::Objective objective);

// The optimizer the options name, over any model.
std::unique_ptr<Optimizer> make_optimizer(const DenoiserTrainOptions& options);

// The mean loss of an epoch, and for the classifier objectives the percentage of D(x + δ) that f labels as
// the objective's target (the label, or f's clean prediction); -1 for denoising.
struct DenoiserLoss {
  double loss = 0, accuracy = -1;
};

// One batch: the denoiser on `noisy` (in training mode when `grads` is given, which then receives the
// denoiser's parameter gradients of the batch loss), the objective's mean loss against `clean` (and `labels`,
// for classification; `classifier` at inference, its parameters untouched: call it outside any
// AccumulateParameterGradients guard). Returns the loss and accuracy.
DenoiserLoss denoiser_batch_loss(Classifier& denoiser, Classifier* classifier, const Tensor& clean,
                                 const Tensor& noisy, const std::vector<int64_t>& labels,
                                 DenoiserTrainOptions::Objective objective, ParameterGradients* grads);

// One epoch over `ids` of `data` (denoiser in training mode: BatchNorm on batch statistics). The classifier
// objectives need at least one classifier, at inference and not trained; with several, batch i trains through
// classifiers[i mod their number], as Salman et al. train through surrogate models. Returns the training
// loss.
DenoiserLoss train_denoiser_epoch(Classifier& denoiser, Optimizer& optimizer,
                                  const std::vector<Classifier*>& classifiers, const io::Dataset& data,
                                  const std::vector<int64_t>& ids, const DenoiserTrainOptions& options,
                                  int64_t epoch, const ProgressFn& progress = {});

// The same loss at inference on `ids` (noise fixed per epoch, no crops).
DenoiserLoss evaluate_denoiser(Classifier& denoiser, Classifier* classifier, const io::Dataset& data,
                               const std::vector<int64_t>& ids, const DenoiserTrainOptions& options,
                               int64_t epoch, const ProgressFn& progress = {});

}  // namespace sc::training
