// Shapes and the arithmetic on them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sc {

using Shape = std::vector<int64_t>;

int64_t numel_of(const Shape& s);
// The element count of a shape read from a file: every dimension ≥ 0 and the product of the nonzero ones at
// most 2^40, so that no count, stride or byte size derived from it overflows; an sc::Error naming `what`
// otherwise.
int64_t checked_numel(const Shape& s, const std::string& what);
std::string shape_str(const Shape& s);
// Row-major (C order) strides, in elements.
std::vector<int64_t> contiguous_strides(const Shape& s);

}  // namespace sc
