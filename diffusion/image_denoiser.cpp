#include "diffusion/image_denoiser.h"

#include "nn/models/denoisers.h"

namespace sc {

OneShotDenoiser::OneShotDenoiser(DiffusionModel& model, double sigma, std::unique_ptr<FastDenoiser> fast)
    : model_(model), sigma_(sigma), fast_(std::move(fast)) {}

OneShotDenoiser::OneShotDenoiser(std::unique_ptr<DiffusionModel> model, double sigma,
                                 std::unique_ptr<FastDenoiser> fast)
    : owned_(std::move(model)), model_(*owned_), sigma_(sigma), fast_(std::move(fast)) {}

Tensor OneShotDenoiser::denoise(const Tensor& x) {
  return fast_ ? fast_->denoise(x) : denoise_one_shot(model_, x, sigma_);
}

void OneShotDenoiser::check_size(int64_t height, int64_t width) const {
  const UNetConfig& u = model_.unet->config();
  SC_CHECK(u.accepts_size(height, width), "the denoiser cannot run on ", height, "x", width, " images: its ",
           u.channel_mult.size() - 1, " downsamplings need sides divisible by ", u.size_multiple());
}

std::string OneShotDenoiser::engine() const {
  return fast_ ? "fast denoiser" : "generic denoiser";
}

NetworkDenoiser::NetworkDenoiser(std::unique_ptr<Classifier> model) : model_(std::move(model)) {
  SC_CHECK(model_ && is_denoiser_arch(model_->spec.arch), "'", model_ ? model_->spec.arch : "(none)",
           "' is not a denoiser architecture");
}

// The network directly, not Classifier::forward, which holds images to the spec's size: it is fully
// convolutional, and denoisers have no normalization.
Tensor NetworkDenoiser::denoise(const Tensor& x) {
  SC_CHECK(x.dim() == 4 && x.size(1) == channels(), "denoiser '", model_->spec.arch, "' expects [N, ",
           channels(), ", H, W] images, got ", x.describe());
  return model_->net->forward(x);
}

void NetworkDenoiser::check_size(int64_t height, int64_t width) const {
  SC_CHECK(height > 0 && width > 0, "the denoiser cannot run on ", height, "x", width, " images");
}

}  // namespace sc
