// Numbers written as text outside the program: files, model metadata, pickles, command lines. The whole text
// must be the number (surrounding spaces aside), and a value out of range is no number: the callers turn an
// empty result into an sc::Error naming the input, so std::stoll's invalid_argument and out_of_range never
// escape from a bad file.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace sc {

std::optional<int64_t> parse_int64(const std::string& text);
// Any double strtod reads (inf and nan included: callers that need a finite value check it); a value too
// large for a double is none, one too small rounds to a subnormal or zero as strtod rounds it.
std::optional<double> parse_double(const std::string& text);

}  // namespace sc
