#include "nn/tensor.h"

#include <algorithm>
#include <cstring>
#include <sstream>

#include "kernels/cast.h"
#include "kernels/fill.h"
#include "kernels/strided_copy.h"
#include "nn/runtime.h"

namespace sc {

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape) SC_CHECK(d >= 0, "negative dimension in shape ", shape_str(shape));
  check_device_usable(device, "empty");
  Tensor t;
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  t.dtype_ = dtype;
  t.device_ = device;
  t.storage_ = std::make_shared<Buffer>(static_cast<size_t>(numel_of(shape)) * dtype_size(dtype), device);
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  ops::fill(t, 0.0f);
  return t;
}

Tensor Tensor::full(const Shape& shape, float value, Device device) {
  Tensor t = empty(shape, DType::F32, device);
  ops::fill(t, value);
  return t;
}

int64_t Tensor::size(int64_t d) const {
  const int64_t n = dim();
  if (d < 0) d += n;
  SC_CHECK(d >= 0 && d < n, "size(", d, "): tensor ", describe(), " has ", n, " dimensions");
  return shape_[d];
}

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (size_t i = shape_.size(); i-- > 0;) {
    if (shape_[i] != 1 && strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

std::string Tensor::describe() const {
  if (!defined()) return "undefined tensor";
  std::ostringstream os;
  os << dtype_name(dtype_) << shape_str(shape_) << " on " << device_.str();
  return os.str();
}

void* Tensor::raw_data() const {
  return static_cast<char*>(storage_->data()) + offset_ * static_cast<int64_t>(dtype_size(dtype_));
}

Tensor Tensor::reshape(const Shape& shape) const {
  Shape s = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      SC_CHECK(infer < 0, "reshape: more than one -1 in ", shape_str(shape));
      infer = static_cast<int64_t>(i);
    } else {
      SC_CHECK(s[i] >= 0, "reshape: bad dimension in ", shape_str(shape));
      known *= s[i];
    }
  }
  if (infer >= 0) {
    SC_CHECK(known > 0 && numel() % known == 0, "reshape: cannot reshape ", describe(), " to ", shape_str(shape));
    s[infer] = numel() / known;
  }
  SC_CHECK(numel_of(s) == numel(), "reshape: cannot reshape ", describe(), " (", numel(), " elements) to ",
           shape_str(shape));
  Tensor t = is_contiguous() ? *this : contiguous();
  t.shape_ = s;
  t.strides_ = contiguous_strides(s);
  return t;
}

Tensor Tensor::flatten(int64_t start_dim) const {
  if (start_dim < 0) start_dim += dim();
  SC_CHECK(start_dim >= 0 && start_dim < std::max<int64_t>(dim(), 1), "flatten: start_dim ", start_dim,
           " out of range for ", describe());
  Shape s(shape_.begin(), shape_.begin() + start_dim);
  int64_t rest = 1;
  for (int64_t i = start_dim; i < dim(); ++i) rest *= shape_[i];
  s.push_back(rest);
  return reshape(s);
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end) const {
  if (d < 0) d += dim();
  SC_CHECK(d >= 0 && d < dim(), "slice: dimension ", d, " out of range for ", describe());
  SC_CHECK(0 <= start && start <= end && end <= shape_[d], "slice: [", start, ", ", end, ") out of range for size ",
           shape_[d], " of ", describe());
  Tensor t = *this;
  t.offset_ += start * strides_[d];
  t.shape_[d] = end - start;
  return t;
}

Tensor Tensor::permute(const std::vector<int64_t>& order) const {
  SC_CHECK(static_cast<int64_t>(order.size()) == dim(), "permute: order has ", order.size(), " entries for ",
           describe());
  std::vector<bool> seen(order.size(), false);
  Tensor t = *this;
  for (size_t i = 0; i < order.size(); ++i) {
    const int64_t o = order[i];
    SC_CHECK(o >= 0 && o < dim() && !seen[o], "permute: order is not a permutation");
    seen[o] = true;
    t.shape_[i] = shape_[o];
    t.strides_[i] = strides_[o];
  }
  return t;
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  Tensor out = empty(shape_, dtype_, device_);
  out.copy_(*this);
  return out;
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape_, dtype_, device_);
  out.copy_(*this);
  return out;
}

Tensor Tensor::to(Device device) const {
  SC_CHECK(defined(), "to(", device.str(), "): tensor is undefined");
  if (device == device_ && is_contiguous()) return *this;
  Tensor src = contiguous();
  Tensor out = empty(shape_, dtype_, device);
  copy_bytes(out.raw_data(), device, src.raw_data(), device_, nbytes());
  return out;
}

Tensor Tensor::astype(DType dtype) const {
  if (dtype == dtype_) return *this;
  Tensor src = contiguous();
  Tensor out = empty(shape_, dtype, device_);
  ops::cast(src, out);
  return out;
}

void Tensor::copy_(const Tensor& src) {
  SC_CHECK(src.shape_ == shape_, "copy_: shape ", shape_str(src.shape_), " into ", shape_str(shape_));
  SC_CHECK(src.dtype_ == dtype_, "copy_: dtype ", dtype_name(src.dtype_), " into ", dtype_name(dtype_));
  if (src.device_ == device_) {
    ops::strided_copy(src, *this);
    return;
  }
  // Across devices: make both sides contiguous, copy bytes, then scatter if this tensor is strided.
  Tensor s = src.contiguous();
  if (is_contiguous()) {
    copy_bytes(raw_data(), device_, s.raw_data(), s.device_, nbytes());
  } else {
    Tensor staged = s.to(device_);
    ops::strided_copy(staged, *this);
  }
}

void Tensor::fill_(float value) { ops::fill(*this, value); }

std::vector<float> Tensor::to_float_vector() const {
  Tensor t = astype(DType::F32).cpu();
  const float* p = t.data<float>();
  return std::vector<float>(p, p + t.numel());
}

void check_defined(const Tensor& t, const char* op, const char* arg) {
  SC_CHECK(t.defined(), op, ": argument '", arg, "' is an undefined tensor");
}

void check_dtype(const Tensor& t, DType dtype, const char* op, const char* arg) {
  check_defined(t, op, arg);
  SC_CHECK(t.dtype() == dtype, op, ": argument '", arg, "' must be ", dtype_name(dtype), ", got ", t.describe());
}

void check_dim(const Tensor& t, int64_t dim, const char* op, const char* arg) {
  check_defined(t, op, arg);
  SC_CHECK(t.dim() == dim, op, ": argument '", arg, "' must have ", dim, " dimensions, got ", t.describe());
}

void check_contiguous(const Tensor& t, const char* op, const char* arg) {
  SC_CHECK(t.is_contiguous(), op, ": argument '", arg, "' must be contiguous (call .contiguous()), got ",
           t.describe());
}

void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
  SC_CHECK(a.device() == b.device(), op, ": tensors on different devices: ", a.describe(), " and ", b.describe());
}

void check_same_shape(const Tensor& a, const Tensor& b, const char* op) {
  SC_CHECK(a.shape() == b.shape(), op, ": shapes differ: ", a.describe(), " and ", b.describe());
}

void check_device_usable(Device device, const char* op) {
  if (device.is_cpu()) return;
  SC_CHECK(built_with_cuda(), op, ": ", device.str(), " requested but ", cuda_unavailable_reason());
}

}  // namespace sc
