// safetensors files: an 8-byte little-endian header length, a JSON header mapping each tensor name to
// {dtype, shape, data_offsets} (plus an optional "__metadata__" object of strings), then the raw data.
// Reading validates everything against the file size (truncation, overlaps, sizes) and names the tensor.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "nn/tensor.h"

namespace sc::io {

struct Safetensors {
  std::vector<std::pair<std::string, Tensor>> tensors;  // in file order
  std::map<std::string, std::string> metadata;

  const Tensor* find(const std::string& name) const;
  const Tensor& at(const std::string& name) const;  // throws naming the missing key
};

// F32, F16, BF16, I32, I64, U8 load as themselves; F64 loads as float32.
Safetensors read_safetensors(const std::string& path);
Safetensors parse_safetensors(const std::string& bytes, const std::string& what);
// Writes atomically (PATH.tmp, then rename); tensors may live on any device.
void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace sc::io
