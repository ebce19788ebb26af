// The diffusion UNets of openai/improved-diffusion (iddpm_unet) and openai/guided-diffusion (adm_unet), with the
// reference's state-dict keys: time_embed.{0,2}, input_blocks.K.L, middle_block.{0,1,2}, output_blocks.K.L,
// out.{0,2}; ResBlocks (in_layers.{0,2}, emb_layers.1, out_layers.{0,3}, skip_connection), attention blocks (norm,
// qkv, proj_out; legacy [q|k|v]-per-head layout), Downsample (op), Upsample (conv). guided-diffusion adds
// num_head_channels and resblock_updown (ResBlocks that resample with average pooling / nearest upsampling).
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
  // From the reference scripts' flags (--image_size 32 --num_channels 128 ...); unknown flags are errors.
  static UNetConfig from_flags(const std::string& arch, const std::map<std::string, std::string>& flags);
  std::map<std::string, std::string> to_flags() const;
};

class UNet : public Module {
 public:
  explicit UNet(const UNetConfig& config);
  ~UNet() override;
  // x: [B, C, H, W] (in [−1, 1]); t: float32 [B], the timesteps as the network receives them (already rescaled
  // when the diffusion rescales). Returns [B, out_channels, H, W]: ε (and the variance terms when learn_sigma).
  Tensor forward(const Tensor& x, const Tensor& t);
  Tensor forward(const Tensor&) override { SC_FAIL("UNet::forward needs timesteps"); }
  void collect(const std::string& prefix, NamedTensors& out) override;
  std::string name() const override { return config_.arch; }
  const UNetConfig& config() const { return config_; }

 private:
  struct Impl;
  UNetConfig config_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sc
