// Tensor: a shape, strides (in elements), an element type and a device over shared storage.
// Views (reshape of contiguous data, slice, permute) share storage; ops expect contiguous inputs and
// say so when they get something else. Copies between devices are explicit: to(), cpu(), cuda().
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nn/device.h"
#include "nn/dtype.h"
#include "nn/error.h"
#include "nn/memory.h"
#include "nn/shape.h"

namespace sc {

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor (no storage)

  static Tensor empty(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, float value, Device device = Device::cpu());
  // A CPU tensor holding a copy of `values` (size must match the shape).
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape) {
    SC_CHECK(static_cast<int64_t>(values.size()) == numel_of(shape), "from_vector: ", values.size(),
             " values for shape ", shape_str(shape));
    Tensor t = empty(shape, dtype_of<T>::value);
    std::copy(values.begin(), values.end(), t.data<T>());
    return t;
  }

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  const std::vector<int64_t>& strides() const { return strides_; }
  int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return numel_of(shape_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  bool is_contiguous() const;
  std::string describe() const;  // e.g. "float32[17, 3, 5, 5] on cpu"

  // Typed pointer to the first element; checks that T matches the dtype.
  template <typename T>
  T* data() const {
    SC_CHECK(defined(), "data(): tensor is undefined");
    SC_CHECK(dtype_of<T>::value == dtype_, "data(): tensor holds ", dtype_name(dtype_), ", not ",
             dtype_name(dtype_of<T>::value));
    return reinterpret_cast<T*>(raw_data());
  }
  void* raw_data() const;

  // Views and copies.
  Tensor reshape(const Shape& shape) const;  // one dimension may be -1; copies only if not contiguous
  Tensor flatten(int64_t start_dim = 1) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end) const;  // [start, end) along dim, a view
  Tensor permute(const std::vector<int64_t>& order) const;     // a view
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor to(Device device) const;  // a contiguous copy on `device` (no copy if already there and contiguous)
  Tensor cpu() const { return to(Device::cpu()); }
  Tensor cuda(int k = 0) const { return to(Device::cuda(k)); }
  // Element type conversion (CPU and CUDA); float <-> f16/bf16 round to nearest even.
  Tensor astype(DType dtype) const;
  // Copies src (same shape and dtype, any device, any strides) into this tensor's elements.
  void copy_(const Tensor& src);
  void fill_(float value);

  // Host-side element access for tests and small data (copies to the CPU if needed).
  std::vector<float> to_float_vector() const;

 private:
  std::shared_ptr<Buffer> storage_;
  Shape shape_;
  std::vector<int64_t> strides_;
  int64_t offset_ = 0;  // in elements
  DType dtype_ = DType::F32;
  Device device_;
};

// Validation helpers used by every op front end; messages name the op and the argument.
void check_defined(const Tensor& t, const char* op, const char* arg);
void check_dtype(const Tensor& t, DType dtype, const char* op, const char* arg);
void check_dim(const Tensor& t, int64_t dim, const char* op, const char* arg);
void check_contiguous(const Tensor& t, const char* op, const char* arg);
void check_same_device(const Tensor& a, const Tensor& b, const char* op);
void check_same_shape(const Tensor& a, const Tensor& b, const char* op);
// Fails with a clear message when `device` is CUDA and this build or machine cannot run it.
void check_device_usable(Device device, const char* op);

}  // namespace sc
