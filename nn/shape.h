// Shapes and the arithmetic on them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sc {

using Shape = std::vector<int64_t>;

int64_t numel_of(const Shape& s);
std::string shape_str(const Shape& s);
// Row-major (C order) strides, in elements.
std::vector<int64_t> contiguous_strides(const Shape& s);

}  // namespace sc
