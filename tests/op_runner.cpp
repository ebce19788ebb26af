#include "op_runner.h"

#include "kernels/adam_step.h"
#include "kernels/adaptive_avg_pool2d.h"
#include "kernels/argmax.h"
#include "kernels/batch_norm.h"
#include "kernels/batch_norm_training.h"
#include "kernels/channel_modulate.h"
#include "kernels/channel_normalize.h"
#include "kernels/channel_sums.h"
#include "kernels/class_histogram.h"
#include "kernels/concat.h"
#include "kernels/conv2d.h"
#include "kernels/elementwise.h"
#include "kernels/gelu.h"
#include "kernels/group_norm.h"
#include "kernels/last_dim_affine.h"
#include "kernels/layer_norm.h"
#include "kernels/linear.h"
#include "kernels/pad_channels.h"
#include "kernels/patch_tokens.h"
#include "kernels/pool2d.h"
#include "kernels/qkv_attention.h"
#include "kernels/relu.h"
#include "kernels/resize_bicubic.h"
#include "kernels/sgd_step.h"
#include "kernels/silu.h"
#include "kernels/softmax.h"
#include "kernels/subsample2d.h"
#include "kernels/timestep_embedding.h"
#include "kernels/token_attention.h"
#include "kernels/upsample_nearest2x.h"

namespace sc::test {

namespace {
bool starts_with(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

// Several outputs as one flat tensor, in order (the fixtures store them so).
Tensor flat_concat(const std::vector<Tensor>& parts) {
  std::vector<Tensor> flat;
  for (const Tensor& t : parts) flat.push_back(t.contiguous().reshape({t.numel()}));
  return ops::concat(flat, 0);
}

Tensor run_training_case(const FixtureCase& c, Device dev) {
  auto in = [&](const char* k) { return c.at(k).to(dev); };
  const std::string& n = c.name;
  if (starts_with(n, "wgrad_")) {
    const auto s = c.ints_param("stride"), p = c.ints_param("padding"), d = c.ints_param("dilation");
    const auto k = c.ints_param("kernel");
    return ops::conv2d_backward_weight(in("x"), in("dy"), k[0], k[1],
                                       {s[0], s[1], p[0], p[1], d[0], d[1], c.int_param("groups")});
  }
  if (starts_with(n, "sums_")) return ops::channel_sums(in("x"));
  if (starts_with(n, "stats_")) return ops::batch_norm_statistics(in("x"));
  if (starts_with(n, "bnback_")) {
    const BatchNormGradients g =
        ops::batch_norm_backward(in("dy"), in("x"), in("weight"), in("stats"), c.number_param("eps"));
    return flat_concat({g.dx, g.dweight, g.dbias});
  }
  if (starts_with(n, "sgd_")) {
    Tensor param = in("param").clone(), buffer = in("buffer").clone();
    SgdParams p{c.number_param("lr"), c.number_param("momentum"), c.number_param("weight_decay"),
                c.bool_param("nesterov")};
    ops::sgd_step(param, in("grad"), buffer, p);
    return flat_concat({param, buffer});
  }
  if (starts_with(n, "adam_")) {
    Tensor param = in("param").clone(), m = in("exp_avg").clone(), v = in("exp_avg_sq").clone();
    AdamParams p{c.number_param("lr"), c.number_param("beta1"), c.number_param("beta2"),
                 c.number_param("eps"), c.number_param("weight_decay")};
    ops::adam_step(param, in("grad"), m, v, c.int_param("step"), p);
    return flat_concat({param, m, v});
  }
  return Tensor();
}

Tensor run_transformer_case(const FixtureCase& c, Device dev) {
  auto in = [&](const char* k) { return c.at(k).to(dev); };
  auto opt = [&](const char* k) {
    Tensor t = c.get(k);
    return t.defined() ? t.to(dev) : t;
  };
  const std::string& n = c.name;
  if (starts_with(n, "ln_")) return ops::layer_norm(in("x"), in("weight"), in("bias"), c.number_param("eps"));
  if (starts_with(n, "lnback_")) {
    const LayerNormGradients g =
        ops::layer_norm_backward(in("dy"), in("x"), in("weight"), c.number_param("eps"));
    return flat_concat({g.dx, g.dweight, g.dbias});
  }
  if (starts_with(n, "gelu_")) return ops::gelu(in("x"));
  if (starts_with(n, "geluback_")) return ops::gelu_backward(in("dy"), in("x"));
  if (starts_with(n, "attn_")) return ops::token_attention(in("qkv"), c.int_param("heads"));
  if (starts_with(n, "attnback_"))
    return ops::token_attention_backward(in("dy"), in("qkv"), c.int_param("heads"));
  if (starts_with(n, "attnbias")) {
    const auto grid = c.ints_param("grid");
    const RelativePositionBias bias{in("table"), grid[0], grid[1]};
    if (starts_with(n, "attnbias_")) return ops::token_attention(in("qkv"), c.int_param("heads"), bias);
    Tensor dbias;
    const Tensor dqkv =
        ops::token_attention_backward(in("dy"), in("qkv"), c.int_param("heads"), bias, &dbias);
    return flat_concat({dqkv, dbias});
  }
  if (starts_with(n, "affine_")) return ops::last_dim_affine(in("x"), opt("scale"), opt("shift"));
  if (starts_with(n, "tokens_")) return ops::patch_tokens(in("patches"), in("cls"), in("pos"));
  if (starts_with(n, "tokensback_")) {
    const PatchTokenGradients g = ops::patch_tokens_backward(in("dy"));
    return flat_concat({g.dpatches, g.dcls, g.dpos});
  }
  return Tensor();
}
}  // namespace

const std::vector<std::string>& op_fixture_names() {
  static const std::vector<std::string> names = {
      "conv2d",          "batch_norm",          "linear",    "elementwise", "channel_normalize",
      "pool2d",          "adaptive_avg_pool2d", "shape_ops", "softmax",     "argmax",
      "class_histogram", "diffusion",           "backward",  "training",    "transformer"};
  return names;
}

double fixture_tolerance(const std::string&) { return 1e-5; }  // float32 against a float64 reference

Tensor run_fixture_case(const std::string& op, const FixtureCase& c, Device dev, Backend backend) {
  auto in = [&](const char* k) { return c.at(k).to(dev); };
  auto opt = [&](const char* k) {
    Tensor t = c.get(k);
    return t.defined() ? t.to(dev) : t;
  };
  const std::string& n = c.name;
  Tensor y;
  if (op == "conv2d") {
    const auto s = c.ints_param("stride"), p = c.ints_param("padding"), d = c.ints_param("dilation");
    Conv2dParams cp{s[0], s[1], p[0], p[1], d[0], d[1], c.int_param("groups")};
    y = ops::conv2d(in("x"), in("weight"), opt("bias"), cp, backend);
  } else if (op == "batch_norm") {
    y = ops::batch_norm(in("x"), in("weight"), in("bias"), in("running_mean"), in("running_var"),
                        c.number_param("eps"));
  } else if (op == "linear") {
    y = ops::linear(in("x"), in("weight"), opt("bias"), backend);
  } else if (op == "elementwise") {
    if (starts_with(n, "add_")) y = ops::add(in("a"), in("b"));
    else if (starts_with(n, "mul_")) y = ops::mul(in("a"), in("b"));
    else if (starts_with(n, "affine_"))
      y = ops::affine(in("x"), static_cast<float>(c.number_param("alpha")), static_cast<float>(c.number_param("beta")));
    else if (starts_with(n, "relu_")) y = ops::relu(in("x"));
  } else if (op == "channel_normalize") {
    y = ops::channel_normalize(in("x"), in("mean"), in("std"));
  } else if (op == "pool2d") {
    const auto p = Pool2dParams::square(c.int_param("kernel"), c.int_param("stride"), c.int_param("padding"));
    y = c.string_param("kind") == "avg" ? ops::avg_pool2d(in("x"), p) : ops::max_pool2d(in("x"), p);
  } else if (op == "adaptive_avg_pool2d") {
    const auto o = c.ints_param("out");
    y = ops::adaptive_avg_pool2d(in("x"), o[0], o[1]);
  } else if (op == "shape_ops") {
    if (starts_with(n, "concat_")) y = ops::concat({in("a"), in("b")}, c.int_param("dim"));
    else if (starts_with(n, "pad_")) y = ops::pad_channels(in("x"), c.int_param("before"), c.int_param("after"));
    else if (starts_with(n, "sub_")) y = ops::subsample2d(in("x"), c.int_param("stride"));
  } else if (op == "softmax") {
    y = starts_with(n, "log_softmax_") ? ops::log_softmax(in("x")) : ops::softmax(in("x"));
  } else if (op == "argmax") {
    y = ops::argmax(in("x"));
  } else if (op == "diffusion") {
    if (starts_with(n, "gn_")) y = ops::group_norm(in("x"), c.int_param("groups"), in("weight"), in("bias"), 1e-5);
    else if (starts_with(n, "silu_")) y = ops::silu(in("x"));
    else if (starts_with(n, "up_")) y = ops::upsample_nearest2x(in("x"));
    else if (starts_with(n, "temb_")) y = ops::timestep_embedding(in("t"), c.int_param("dim"));
    else if (starts_with(n, "attn_")) y = ops::qkv_attention(in("qkv"), c.int_param("heads"));
    else if (starts_with(n, "scale_shift_")) y = ops::channel_modulate(in("x"), in("scale"), in("shift"));
    else if (starts_with(n, "shift_only_")) y = ops::channel_modulate(in("x"), Tensor(), in("shift"));
    else if (starts_with(n, "resize_")) y = ops::resize_bicubic(in("x"), c.ints_param("size")[0], c.ints_param("size")[1]);
  } else if (op == "backward") {
    const auto size = starts_with(n, "relu_") ? std::vector<int64_t>() : c.ints_param("input_size");
    if (starts_with(n, "conv_")) {
      const auto s = c.ints_param("stride"), p = c.ints_param("padding"), d = c.ints_param("dilation");
      Conv2dParams cp{s[0], s[1], p[0], p[1], d[0], d[1], c.int_param("groups")};
      y = ops::conv2d_backward_input(in("dy"), in("weight"), size[0], size[1], cp);
    } else if (starts_with(n, "relu_")) {
      y = ops::relu_backward(in("dy"), in("y"));
    } else if (starts_with(n, "pool_")) {
      const auto p =
          Pool2dParams::square(c.int_param("kernel"), c.int_param("stride"), c.int_param("padding"));
      y = c.string_param("kind") == "avg" ? ops::avg_pool2d_backward(in("dy"), size[0], size[1], p)
                                          : ops::max_pool2d_backward(in("dy"), in("x"), p);
    } else if (starts_with(n, "adaptive_")) {
      y = ops::adaptive_avg_pool2d_backward(in("dy"), size[0], size[1]);
    } else if (starts_with(n, "sub_")) {
      y = ops::subsample2d_backward(in("dy"), size[0], size[1], c.int_param("stride"));
    }
  } else if (op == "training") {
    y = run_training_case(c, dev);
  } else if (op == "transformer") {
    y = run_transformer_case(c, dev);
  } else if (op == "class_histogram") {
    y = ops::class_histogram(in("labels"), c.int_param("classes"));
  }
  SC_CHECK(y.defined(), "no runner for fixture case ", op, "/", n);
  return y.cpu();
}

}  // namespace sc::test
