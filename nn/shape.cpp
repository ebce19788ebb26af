#include "nn/shape.h"

#include <sstream>

#include "nn/error.h"

namespace sc {

int64_t numel_of(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

int64_t checked_numel(const Shape& s, const std::string& what) {
  constexpr int64_t kLimit = int64_t{1} << 40;
  int64_t nonzero = 1;
  bool empty = false;
  for (int64_t d : s) {
    SC_CHECK(d >= 0, what, ": negative dimension in shape ", shape_str(s));
    if (d == 0) {
      empty = true;
      continue;
    }
    SC_CHECK(d <= kLimit / nonzero, what, ": shape ", shape_str(s), " has more than 2^40 elements");
    nonzero *= d;
  }
  return empty ? 0 : nonzero;
}

std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << ']';
  return os.str();
}

std::vector<int64_t> contiguous_strides(const Shape& s) {
  std::vector<int64_t> st(s.size());
  int64_t acc = 1;
  for (size_t i = s.size(); i-- > 0;) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

}  // namespace sc
