#include "kernels/patch_tokens.h"

#include "kernels/dispatch.h"

namespace sc::ops {

namespace {
// patches [B, C, P] float32 (channels first) or [B, P, C] float32/bfloat16/float16 (channels last); cls [C]
// and pos [P + 1, C] float32. Returns tokens [B, P + 1, C] in the patches' type.
Tensor make_tokens(const Tensor& patches, const Tensor& cls, const Tensor& pos, bool channels_last,
                   const char* op) {
  for (const auto& [t, name] :
       {std::pair{&patches, "patches"}, std::pair{&cls, "cls"}, std::pair{&pos, "pos"}}) {
    if (t != &patches || !channels_last) check_dtype(*t, DType::F32, op, name);
    check_contiguous(*t, op, name);
    check_same_device(patches, *t, op);
  }
  SC_CHECK(patches.dtype() == DType::F32 || patches.dtype() == DType::BF16 || patches.dtype() == DType::F16,
           op, ": patches must be float32, bfloat16 or float16, got ", patches.describe());
  check_dim(patches, 3, op, "patches");
  const int64_t B = patches.size(0), C = patches.size(channels_last ? 2 : 1),
                P = patches.size(channels_last ? 1 : 2);
  SC_CHECK(cls.shape() == Shape({C}) && pos.shape() == Shape({P + 1, C}), op, ": for patches ",
           patches.describe(), " the class token must be [", C, "] and the positions [", P + 1, ", ", C,
           "], got ", cls.describe(), " and ", pos.describe());
  Tensor tokens = Tensor::empty({B, P + 1, C}, patches.dtype(), patches.device());
  if (tokens.numel() == 0) return tokens;
  SC_DISPATCH(patches.device(), cpu::patch_tokens(patches, cls, pos, channels_last, tokens),
              cuda::patch_tokens(patches, cls, pos, channels_last, tokens));
  return tokens;
}
}  // namespace

Tensor patch_tokens(const Tensor& patches, const Tensor& cls, const Tensor& pos) {
  return make_tokens(patches, cls, pos, false, "patch_tokens");
}

Tensor patch_tokens_nhwc(const Tensor& patches, const Tensor& cls, const Tensor& pos) {
  return make_tokens(patches, cls, pos, true, "patch_tokens_nhwc");
}

PatchTokenGradients patch_tokens_backward(const Tensor& dy) {
  const char* op = "patch_tokens_backward";
  check_dtype(dy, DType::F32, op, "dy");
  check_contiguous(dy, op, "dy");
  check_dim(dy, 3, op, "dy");
  const int64_t B = dy.size(0), T = dy.size(1), C = dy.size(2);
  SC_CHECK(T > 0, op, ": dy ", dy.describe(), " has no class token");
  PatchTokenGradients g;
  g.dpatches = Tensor::empty({B, C, T - 1}, DType::F32, dy.device());
  g.dpos = Tensor::empty({T, C}, DType::F32, dy.device());
  if (g.dpos.numel() > 0)
    SC_DISPATCH(dy.device(), cpu::patch_tokens_backward(dy, g.dpatches, g.dpos),
                cuda::patch_tokens_backward(dy, g.dpatches, g.dpos));
  g.dcls = g.dpos.slice(0, 0, 1).reshape({C}).clone();
  return g;
}

}  // namespace sc::ops
