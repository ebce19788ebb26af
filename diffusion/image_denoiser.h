// The denoisers a DenoisedClassifier can put in front of its classifier: noisy images in [0,1] at the
// smoothing noise level σ → clean estimates of the same shape.
//   OneShotDenoiser  a diffusion UNet, one step from t*(σ) (Carlini et al. 2023; diffusion/denoiser.h), on
//                    the fast engine when one is given; its estimates are clipped to [0,1]
//   NetworkDenoiser  an image-to-image network trained to remove N(0, σ²) noise: Salman et al.'s DnCNN
//                    (denoised smoothing, 2020; nn/models/denoisers.h); not clipped, as theirs is not
#pragma once
#include <memory>
#include <string>

#include "diffusion/denoiser.h"
#include "engine/fast_denoiser.h"
#include "nn/models/registry.h"

namespace sc {

class ImageDenoiser {
 public:
  virtual ~ImageDenoiser() = default;
  // x: [B, C, H, W] float32 on the denoiser's device.
  virtual Tensor denoise(const Tensor& x) = 0;
  virtual int64_t channels() const = 0;
  // The image side it was trained on: where the noisy samples are drawn unless told otherwise.
  virtual int64_t trained_size() const = 0;
  // Fails, saying why, when it cannot run on H×W images.
  virtual void check_size(int64_t height, int64_t width) const = 0;
  // "fast denoiser", "generic denoiser" (a diffusion UNet) or "network denoiser (cifar_dncnn)".
  virtual std::string engine() const = 0;
  // The denoiser as a network with a backward pass (attacks through it), or null: the diffusion UNet has
  // none.
  virtual Classifier* network() { return nullptr; }
};

class OneShotDenoiser : public ImageDenoiser {
 public:
  // Borrows `model`, which must outlive this; `fast` (may be null: the generic UNet) runs it at `sigma`.
  OneShotDenoiser(DiffusionModel& model, double sigma, std::unique_ptr<FastDenoiser> fast = nullptr);
  // The same, owning the model (`fast`, made from *model, holds its address, which the move keeps).
  OneShotDenoiser(std::unique_ptr<DiffusionModel> model, double sigma, std::unique_ptr<FastDenoiser> fast);
  Tensor denoise(const Tensor& x) override;
  int64_t channels() const override { return model_.unet->config().in_channels; }
  int64_t trained_size() const override { return model_.unet->config().image_size; }
  void check_size(int64_t height, int64_t width) const override;
  std::string engine() const override;

 private:
  std::unique_ptr<DiffusionModel> owned_;  // null when borrowed
  DiffusionModel& model_;
  double sigma_;
  std::unique_ptr<FastDenoiser> fast_;
};

class NetworkDenoiser : public ImageDenoiser {
 public:
  // `model` must be a denoiser architecture (is_denoiser_arch). It is fully convolutional: any image size.
  explicit NetworkDenoiser(std::unique_ptr<Classifier> model);
  Tensor denoise(const Tensor& x) override;
  int64_t channels() const override { return model_->spec.channels; }
  int64_t trained_size() const override { return model_->spec.height; }
  void check_size(int64_t height, int64_t width) const override;
  std::string engine() const override { return "network denoiser (" + model_->spec.arch + ")"; }
  Classifier* network() override { return model_.get(); }

 private:
  std::unique_ptr<Classifier> model_;
};

}  // namespace sc
