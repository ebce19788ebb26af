// NumPy .npy files (format versions 1–3, C order, little-endian).
// Read: float32, float64 (converted to float32, the engine's float type), uint8, int32, int64.
// Write: float32, uint8, int32, int64 tensors; float64 from doubles.
#pragma once
#include <string>
#include <vector>

#include "nn/tensor.h"

namespace sc::io {

Tensor read_npy(const std::string& path);
// A float64 (or float32) .npy file as doubles, without rounding to float32; its shape goes to `shape`.
std::vector<double> read_npy_f64(const std::string& path, Shape* shape = nullptr);
// Parses .npy bytes; `what` names the source in errors.
Tensor parse_npy(const std::string& bytes, const std::string& what);
void write_npy(const std::string& path, const Tensor& t);
void write_npy_f64(const std::string& path, const std::vector<double>& values, const Shape& shape);

}  // namespace sc::io
