// Bad input to ops: clear exceptions that name the op and the problem.
#include <cmath>

#include "kernels/adam_step.h"
#include "kernels/adaptive_avg_pool2d.h"
#include "kernels/argmax.h"
#include "kernels/batch_norm.h"
#include "kernels/batch_norm_training.h"
#include "kernels/channel_normalize.h"
#include "kernels/channel_sums.h"
#include "kernels/class_histogram.h"
#include "kernels/concat.h"
#include "kernels/conv2d.h"
#include "kernels/elementwise.h"
#include "kernels/fill.h"
#include "kernels/gelu.h"
#include "kernels/last_dim_affine.h"
#include "kernels/layer_norm.h"
#include "kernels/linear.h"
#include "kernels/patch_tokens.h"
#include "kernels/pool2d.h"
#include "kernels/relu.h"
#include "kernels/sgd_step.h"
#include "kernels/softmax.h"
#include "kernels/subsample2d.h"
#include "kernels/token_attention.h"
#include "test_util.h"

namespace sc::test {
namespace {

TEST(OpErrors, Conv2dShapesAndDtypes) {
  const Tensor x = randn({2, 3, 5, 5}, 1), w = randn({4, 3, 3, 3}, 2);
  EXPECT_ERROR_MENTIONS(ops::conv2d(x, randn({4, 2, 3, 3}, 3), Tensor(), {}), "conv2d", "input channels");
  EXPECT_ERROR_MENTIONS(ops::conv2d(randn({2, 3, 5}, 1), w, Tensor(), {}), "conv2d", "4 dimensions");
  EXPECT_ERROR_MENTIONS(ops::conv2d(x.astype(DType::I32), w, Tensor(), {}), "conv2d", "float32", "int32");
  EXPECT_ERROR_MENTIONS(ops::conv2d(x, w, randn({5}, 4), {}), "bias", "[4]");
  EXPECT_ERROR_MENTIONS(ops::conv2d(x, randn({4, 1, 3, 3}, 5), Tensor(), Conv2dParams::square(1, 0, 1, 2)),
                        "groups=2");
  EXPECT_ERROR_MENTIONS(ops::conv2d(randn({1, 3, 2, 2}, 6), w, Tensor(), {}), "smaller than");
  EXPECT_ERROR_MENTIONS(ops::conv2d(x, w, Tensor(), Conv2dParams::square(0, 0)), "stride");
  EXPECT_ERROR_MENTIONS(ops::conv2d(x.permute({0, 1, 3, 2}), w, Tensor(), {}), "contiguous");
}

TEST(OpErrors, BackwardShapes) {
  const Tensor w = randn({4, 3, 3, 3}, 2), dy = randn({2, 4, 3, 3}, 3);
  EXPECT_ERROR_MENTIONS(ops::conv2d_backward_input(dy, w, 6, 6, {}), "conv2d_backward_input", "6x6", "4x4");
  EXPECT_ERROR_MENTIONS(ops::conv2d_backward_input(randn({2, 5, 3, 3}, 4), w, 5, 5, {}), "4 output channels");
  EXPECT_ERROR_MENTIONS(ops::conv2d_backward_input(dy, w, 0, 5, {}), "input size must be positive");
  EXPECT_ERROR_MENTIONS(ops::relu_backward(dy, randn({2, 4, 3, 4}, 5)), "relu_backward", "differ in shape");
  const auto pool = Pool2dParams::square(2, 2);
  EXPECT_ERROR_MENTIONS(ops::avg_pool2d_backward(dy, 8, 8, pool), "avg_pool2d_backward", "4x4");
  EXPECT_ERROR_MENTIONS(ops::max_pool2d_backward(dy, randn({2, 3, 6, 6}, 6), pool), "max_pool2d_backward",
                        "samples and channels");
  EXPECT_ERROR_MENTIONS(ops::subsample2d_backward(dy, 7, 6, 2), "subsample2d_backward", "7x6");
  EXPECT_ERROR_MENTIONS(ops::adaptive_avg_pool2d_backward(dy, 0, 3), "adaptive_avg_pool2d_backward",
                        "positive");
}

TEST(OpErrors, TransformerOps) {
  const Tensor x = randn({5, 7}, 1), g = randn({7}, 2), b = randn({7}, 3);
  EXPECT_ERROR_MENTIONS(ops::layer_norm(x, randn({6}, 4), b, 1e-12), "layer_norm", "weight must be [7]");
  EXPECT_ERROR_MENTIONS(ops::layer_norm(x, g, b, 0), "layer_norm", "eps must be positive");
  EXPECT_ERROR_MENTIONS(ops::layer_norm(randn({5, 0}, 5), randn({0}, 5), randn({0}, 5), 1e-5), "no channels");
  EXPECT_ERROR_MENTIONS(ops::layer_norm_backward(randn({5, 6}, 6), x, g, 1e-12), "layer_norm_backward",
                        "differ in shape");
  EXPECT_ERROR_MENTIONS(ops::gelu_backward(randn({5, 6}, 7), x), "gelu_backward");
  const Tensor qkv = randn({2, 4, 18}, 8);
  EXPECT_ERROR_MENTIONS(ops::token_attention(qkv, 4), "token_attention", "18 channels", "4 heads");
  EXPECT_ERROR_MENTIONS(ops::token_attention(randn({2, 4, 3, 6}, 9), 1), "token_attention", "3 dimensions");
  EXPECT_ERROR_MENTIONS(ops::token_attention(randn({2, 0, 18}, 10), 3), "no tokens");
  EXPECT_ERROR_MENTIONS(ops::token_attention_backward(randn({2, 4, 18}, 11), qkv, 3),
                        "token_attention_backward", "output shape");
  const Tensor patches = randn({2, 7, 4}, 12);
  EXPECT_ERROR_MENTIONS(ops::patch_tokens(patches, g, randn({4, 7}, 13)), "patch_tokens", "[5, 7]", "[4, 7]");
  EXPECT_ERROR_MENTIONS(ops::patch_tokens(patches, randn({6}, 14), randn({5, 7}, 15)),
                        "class token must be [7]");
  EXPECT_ERROR_MENTIONS(ops::patch_tokens_backward(randn({2, 0, 7}, 16)), "patch_tokens_backward",
                        "class token");
  EXPECT_ERROR_MENTIONS(ops::last_dim_affine(x, randn({5}, 17), Tensor()), "last_dim_affine",
                        "scale must be [7]");
  EXPECT_ERROR_MENTIONS(ops::last_dim_affine(x, Tensor(), randn({7, 1}, 18)), "shift must be [7]");
  const Tensor qkv3 = randn({2, 7, 18}, 19);  // a class token and a 3×2 grid
  EXPECT_ERROR_MENTIONS(ops::token_attention(qkv3, 3, {randn({18, 3}, 20), 2, 2}), "token_attention",
                        "7 tokens", "2x2 grid");
  EXPECT_ERROR_MENTIONS(ops::token_attention(qkv3, 3, {randn({18, 2}, 21), 3, 2}), "relative position table",
                        "[18, 3]");
}

TEST(OpErrors, TrainingOps) {
  const Tensor x = randn({2, 3, 6, 6}, 1), dy = randn({2, 4, 4, 4}, 2);
  EXPECT_ERROR_MENTIONS(ops::conv2d_backward_weight(x, randn({2, 4, 5, 5}, 3), 3, 3, {}),
                        "conv2d_backward_weight", "4x4");
  EXPECT_ERROR_MENTIONS(ops::conv2d_backward_weight(x, randn({3, 4, 4, 4}, 3), 3, 3, {}), "differ in batch");
  EXPECT_ERROR_MENTIONS(ops::conv2d_backward_weight(x, dy, 9, 9, {}), "smaller than");
  EXPECT_ERROR_MENTIONS(ops::conv2d_backward_weight(x, dy, 0, 3, {}), "kernel size must be positive");
  EXPECT_ERROR_MENTIONS(ops::channel_sums(randn({5}, 1)), "channel_sums", "channel dimension");
  EXPECT_ERROR_MENTIONS(ops::batch_norm_statistics(Tensor::zeros({0, 3, 2, 2})), "no values");
  const Tensor stats = ops::batch_norm_statistics(x), w = randn({3}, 4);
  EXPECT_ERROR_MENTIONS(ops::batch_norm_backward(randn({2, 3, 6, 5}, 5), x, w, stats, 1e-5),
                        "differ in shape");
  EXPECT_ERROR_MENTIONS(ops::batch_norm_backward(x, x, w, randn({3}, 6), 1e-5), "stats must be [2, 3]");
  EXPECT_ERROR_MENTIONS(ops::batch_norm_backward(x, x, randn({4}, 6), stats, 1e-5), "weight");
  EXPECT_ERROR_MENTIONS(ops::batch_norm_backward(x, x, w, stats, 0), "eps");
  Tensor param = randn({3, 4}, 7), buffer = randn({3, 4}, 8);
  EXPECT_ERROR_MENTIONS(ops::sgd_step(param, randn({4, 3}, 9), buffer, {}), "sgd_step", "differ in shape");
  Tensor small = randn({2}, 10);
  EXPECT_ERROR_MENTIONS(ops::sgd_step(param, randn({3, 4}, 9), small, {}), "momentum buffer");
  EXPECT_ERROR_MENTIONS(ops::sgd_step(param, randn({3, 4}, 9), buffer, {std::nan(""), 0.9, 0, false}),
                        "learning rate");
  EXPECT_ERROR_MENTIONS(ops::sgd_step(param, randn({3, 4}, 9), buffer, {0.1, 0, 0, true}), "Nesterov");
  Tensor m = randn({3, 4}, 11), v = randn({3, 4}, 12);
  EXPECT_ERROR_MENTIONS(ops::adam_step(param, randn({4, 3}, 9), m, v, 1, {}), "adam_step", "grad",
                        "differ in shape");
  EXPECT_ERROR_MENTIONS(ops::adam_step(param, randn({3, 4}, 9), m, small, 1, {}), "exp_avg_sq");
  EXPECT_ERROR_MENTIONS(ops::adam_step(param, randn({3, 4}, 9), m, v, 0, {}), "numbered from 1");
  EXPECT_ERROR_MENTIONS(ops::adam_step(param, randn({3, 4}, 9), m, v, 1, {1e-3, 1.0, 0.999, 1e-8, 0}),
                        "betas");
  EXPECT_ERROR_MENTIONS(ops::adam_step(param, randn({3, 4}, 9), m, v, 1, {1e-3, 0.9, 0.999, 0, 0}), "eps");
  EXPECT_ERROR_MENTIONS(ops::adam_step(param, randn({3, 4}, 9), m, v, 1, {-1, 0.9, 0.999, 1e-8, 0}),
                        "learning rate");
  Tensor counter = Tensor::from_vector(std::vector<int64_t>{41, -3}, {2});
  ops::increment(counter, 2);
  EXPECT_EQ(counter.data<int64_t>()[0], 43);
  EXPECT_EQ(counter.data<int64_t>()[1], -1);
  EXPECT_ERROR_MENTIONS(ops::increment(param, 1), "increment");
}

TEST(OpErrors, OtherOps) {
  const Tensor x = randn({2, 3, 5, 5}, 1);
  EXPECT_ERROR_MENTIONS(ops::linear(randn({2, 7}, 1), randn({4, 6}, 2), Tensor()), "linear", "7 features");
  EXPECT_ERROR_MENTIONS(ops::add(x, randn({2, 3, 5, 4}, 2)), "add", "shapes differ");
  EXPECT_ERROR_MENTIONS(ops::batch_norm(x, randn({3}, 1), randn({3}, 2), randn({4}, 3), randn({3}, 4)),
                        "running_mean", "[3]");
  EXPECT_ERROR_MENTIONS(ops::channel_normalize(x, randn({2}, 1), randn({3}, 2)), "channel_normalize", "mean");
  EXPECT_ERROR_MENTIONS(ops::max_pool2d(x, Pool2dParams::square(7, 1)), "max_pool2d", "window");
  EXPECT_ERROR_MENTIONS(ops::avg_pool2d(x, Pool2dParams::square(2, 2, 2)), "padding");
  EXPECT_ERROR_MENTIONS(ops::adaptive_avg_pool2d(x, 0, 1), "output size");
  EXPECT_ERROR_MENTIONS(ops::concat({x, randn({2, 3, 4, 5}, 3)}, 1), "concat", "outside dimension 1");
  EXPECT_ERROR_MENTIONS(ops::concat({}, 0), "no tensors");
  EXPECT_ERROR_MENTIONS(ops::subsample2d(x, 0), "stride");
  EXPECT_ERROR_MENTIONS(ops::softmax(x), "softmax", "2 dimensions");
  EXPECT_ERROR_MENTIONS(ops::argmax(randn({3, 0}, 1)), "no classes");
  EXPECT_ERROR_MENTIONS(ops::class_histogram(Tensor::zeros({3}, DType::I32), 4), "labels", "int64");
  EXPECT_ERROR_MENTIONS(ops::class_histogram(Tensor::zeros({3}, DType::I64), 0), "num_classes");
}

TEST(OpErrors, NaNPropagatesThroughOps) {
  // NaN inputs must not vanish: a corrupt input has to be visible in the output.
  Tensor x = randn({1, 2, 3, 3}, 1);
  x.data<float>()[4] = std::nanf("");
  const auto has_nan = [](const Tensor& t) {
    for (float v : t.to_float_vector())
      if (std::isnan(v)) return true;
    return false;
  };
  EXPECT_TRUE(has_nan(ops::conv2d(x, randn({2, 2, 3, 3}, 2), Tensor(), {})));
  EXPECT_TRUE(has_nan(ops::max_pool2d(x, Pool2dParams::square(3, 1))));
  EXPECT_TRUE(has_nan(ops::adaptive_avg_pool2d(x, 1, 1)));
  Tensor logits = Tensor::from_vector<float>({1.0f, std::nanf(""), 3.0f}, {1, 3});
  EXPECT_EQ(ops::argmax(logits).data<int64_t>()[0], 1);
}

TEST(OpErrors, HistogramIgnoresOutOfRangeLabels) {
  Tensor labels = Tensor::from_vector<int64_t>({-1, 0, 3, 3, 4, 99}, {6});
  Tensor counts = ops::class_histogram(labels, 4);
  EXPECT_EQ(counts.to_float_vector(), (std::vector<float>{1, 0, 0, 2}));
  ops::class_histogram_accumulate(labels, counts);
  EXPECT_EQ(counts.to_float_vector(), (std::vector<float>{2, 0, 0, 4}));
}

}  // namespace
}  // namespace sc::test
