// Numbers written as text outside the program: files, model metadata, pickles, command lines. The whole text
// must be the number (surrounding spaces aside), and a value out of range is no number: the callers turn an
// empty result into an sc::Error naming the input, so std::stoll's invalid_argument and out_of_range never
// escape from a bad file.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sc {

std::optional<int64_t> parse_int64(const std::string& text);
// Any double strtod reads (inf and nan included: callers that need a finite value check it); a value too
// large for a double is none, one too small rounds to a subnormal or zero as strtod rounds it.
std::optional<double> parse_double(const std::string& text);

// Lists such as "0.5,0.25,0.125" or "0:4:0.25": the items between separators, each parsed as above. An empty
// text is an empty list and a trailing separator ends the list ("1,2," is {1, 2}); an empty or unreadable
// item elsewhere makes the whole list none. Callers keep their own message and range checks.
std::optional<std::vector<double>> parse_double_list(const std::string& text, char separator = ',');
std::optional<std::vector<int64_t>> parse_int64_list(const std::string& text, char separator = ',');

}  // namespace sc
