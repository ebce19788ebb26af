#include "engine/precision.h"

#include "nn/error.h"

namespace sc {

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::FP32;
  if (name == "tf32") return Precision::TF32;
  if (name == "bf16") return Precision::BF16;
  if (name == "fp16") return Precision::FP16;
  SC_FAIL("unknown precision '", name, "' (expected fp32, tf32, bf16 or fp16)");
}

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::FP32:
      return "fp32";
    case Precision::TF32:
      return "tf32";
    case Precision::BF16:
      return "bf16";
    case Precision::FP16:
      return "fp16";
  }
  return "?";
}

int64_t tensor_core_input_channels(int64_t channels, Precision p) {
  const int64_t multiple = activation_dtype(p) != DType::F32 ? 8 : p == Precision::TF32 ? 4 : 1;
  return (channels + multiple - 1) / multiple * multiple;
}

DType activation_dtype(Precision p) {
  switch (p) {
    case Precision::BF16:
      return DType::BF16;
    case Precision::FP16:
      return DType::F16;
    default:
      return DType::F32;
  }
}

Precision default_precision(const Device& device, bool fast_engine) {
  return device.is_cuda() && fast_engine ? Precision::FP16 : Precision::FP32;
}

}  // namespace sc
