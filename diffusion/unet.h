// The diffusion UNets of openai/improved-diffusion (iddpm_unet) and openai/guided-diffusion (adm_unet), with
// the reference's state-dict keys: time_embed.{0,2}, input_blocks.K.L, middle_block.{0,1,2},
// output_blocks.K.L, out.{0,2}; ResBlocks (in_layers.{0,2}, emb_layers.1, out_layers.{0,3}, skip_connection),
// attention blocks (norm, qkv, proj_out; legacy [q|k|v]-per-head layout), Downsample (op), Upsample (conv).
// guided-diffusion adds num_head_channels and resblock_updown (ResBlocks that resample with average pooling /
// nearest upsampling).
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nn/module.h"

namespace sc {

struct UNetConfig {
  std::string arch = "iddpm_unet";  // or adm_unet
  int64_t image_size = 32, in_channels = 3, model_channels = 128, num_res_blocks = 3;
  int64_t num_heads = 4, num_heads_upsample = -1, num_head_channels = -1;
  std::vector<int64_t> attention_ds;  // downsampling rates with attention (image_size / resolution)
  std::vector<int64_t> channel_mult;
  bool learn_sigma = true, use_scale_shift_norm = true, resblock_updown = false, class_cond = false;
  double dropout = 0.0;  // inference: dropout is the identity

  int64_t out_channels() const { return learn_sigma ? 2 * in_channels : in_channels; }
  // The network is convolutional: it runs on any H×W that its downsamplings divide exactly (DDS runs the
  // 256×256 ImageNet UNet on 224×224 images); attention goes by downsampling rate, not resolution.
  int64_t size_multiple() const { return int64_t{1} << (channel_mult.size() - 1); }
  bool accepts_size(int64_t height, int64_t width) const {
    return height > 0 && width > 0 && height % size_multiple() == 0 && width % size_multiple() == 0;
  }
  // From the reference scripts' flags (--image_size 32 --num_channels 128 ...); unknown flags are errors.
  static UNetConfig from_flags(const std::string& arch, const std::map<std::string, std::string>& flags);
  std::map<std::string, std::string> to_flags() const;
  // The number of weights the UNet holds, computed without building it (for a config from_flags accepted).
  int64_t parameter_count() const;
};

// The UNet's layers in forward order, for back ends that run it their own way (engine/fast_denoiser.h).
// Weights come as the module holds them (NCHW convolutions; 1×1 attention convolutions as [O, C, 1]). The
// timestep is fixed for a visit, so each ResBlock's embedding projection arrives computed: emb_out [1, out]
// or, with scale-shift norm, [1, 2·out] = [scale | shift].
struct UNetResBlockView {
  const Tensor &in_gamma, &in_beta, &in_weight, &in_bias;
  const Tensor& emb_out;
  const Tensor &out_gamma, &out_beta, &out_weight, &out_bias;
  const Tensor *skip_weight, *skip_bias;  // null: identity skip
  bool scale_shift;
  int resample;  // 0 none, +1 up, −1 down (guided-diffusion's resblock_updown)
};

class UNetVisitor {
 public:
  virtual ~UNetVisitor() = default;
  virtual void conv(const Tensor& weight, const Tensor& bias, int64_t stride) = 0;  // 3×3, padding 1
  virtual void upsample_conv(const Tensor& weight, const Tensor& bias) = 0;  // nearest ×2, then 3×3 conv
  virtual void res_block(const UNetResBlockView& block) = 0;
  virtual void attention(const Tensor& gamma, const Tensor& beta, const Tensor& qkv_weight,
                         const Tensor& qkv_bias, const Tensor& proj_weight, const Tensor& proj_bias,
                         int64_t heads) = 0;
  virtual void push_skip() = 0;    // after each input block: keep h for the decoder
  virtual void concat_skip() = 0;  // before each output block: h = [h | last kept] along channels
  virtual void out(const Tensor& gamma, const Tensor& beta, const Tensor& weight, const Tensor& bias) = 0;
};

class UNet : public Module {
 public:
  explicit UNet(const UNetConfig& config);
  ~UNet() override;
  // x: [B, C, H, W] (in [−1, 1]); t: float32 [B], the timesteps as the network receives them (already
  // rescaled when the diffusion rescales). Returns [B, out_channels, H, W]: ε (and the variance terms when
  // learn_sigma).
  Tensor forward(const Tensor& x, const Tensor& t);
  Tensor forward(const Tensor&) override { SC_FAIL("UNet::forward needs timesteps"); }
  void collect(const std::string& prefix, NamedTensors& out) override;
  // Reports the layers to `v` in forward order for the timestep t (as the network receives it).
  void visit(UNetVisitor& v, float t);
  std::string name() const override { return config_.arch; }
  const UNetConfig& config() const { return config_; }

 private:
  struct Impl;
  UNetConfig config_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sc
