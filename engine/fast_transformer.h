// The fast path's vision transformers (vit, timm_vit and beit of nn/models/vit.h), in a chosen Precision.
// Tokens are the T pixels of one row of an NHWC map [B, 1, T, C], so that every linear layer is a 1×1
// fused_conv on tensor cores with its bias, and the residual add of the attention's and the MLP's output, in
// the epilogue (layer scales folded into those weights in double), and the MLP's GELU in its first layer's
// epilogue. LayerNorm and the tokens (class token, positions) run in the storage type with float math;
// attention is attention_nhwc (with BEiT's relative position bias), the qkv rows permuted at load into its
// per-head [q | k | v] layout. The patch convolution is a fused_conv on the NHWC image, its channels
// zero-padded to what the tensor cores take and the channel normalization folded into its weights (it has no
// padding, so the fold is exact). The head is pooled_linear after the final LayerNorm of the class token (or,
// BEiT, of the patch tokens' mean in float32). Same math as the model's forward.
#pragma once
#include <memory>
#include <string>

#include "engine/precision.h"
#include "nn/models/vit.h"
#include "smoothing/base_classifier.h"

namespace sc {

class FastTransformer : public BaseClassifier {
 public:
  // Lowers `model` for its current device; throws sc::Error naming what has no fast path.
  FastTransformer(Classifier& model, Precision precision);
  ~FastTransformer() override;
  using BaseClassifier::logits;
  // x [B, C, H, W] float32 in [0, 1] on device() → logits [B, K] float32.
  Tensor logits(const Tensor& x) override;
  Tensor predict_labels(const Tensor& x) override;
  int64_t num_classes() const override { return spec_.num_classes; }
  Shape input_shape() const override { return {spec_.channels, spec_.height, spec_.width}; }
  Device device() override { return device_; }
  Precision precision() const { return precision_; }
  double flops_per_sample() const { return flops_; }  // transformer_flops_per_sample
  // At most this many samples per pass (0: as many as 32-bit indexing allows, the default); for tests of the
  // chunked batches that large batches run in.
  void set_chunk_rows(int64_t rows) { chunk_rows_ = rows; }

  struct Program;  // the converted parameters

 private:
  ModelSpec spec_;
  Device device_;
  Precision precision_;
  std::unique_ptr<Program> program_;
  double flops_ = 0;
  int64_t chunk_rows_ = 0;
};

// 2·multiply-adds per sample of a vision transformer (vit, beit, timm_vit) at its input size: the patch
// convolution, each layer's linear layers and attention's two products (q·k and weights·v), the head; 0 for
// any other model.
double transformer_flops_per_sample(Classifier& model);

// Whether FastTransformer lowers `model` on its device; `why` says what stands in the way.
bool fast_transformer_supports(Classifier& model, std::string& why);

}  // namespace sc
