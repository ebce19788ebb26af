#include "nn/parse_number.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace sc {

namespace {
// True when the text is nonempty and `end` leaves only spaces of it unread.
bool consumed(const std::string& text, const char* end) {
  if (end == text.c_str()) return false;
  while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r') ++end;
  // A NUL inside the string ends strtod early; what follows must not be ignored.
  return end == text.c_str() + text.size();
}
}  // namespace

std::optional<int64_t> parse_int64(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno == ERANGE || !consumed(text, end)) return std::nullopt;
  return static_cast<int64_t>(v);
}

std::optional<double> parse_double(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if ((errno == ERANGE && std::isinf(v)) || !consumed(text, end)) return std::nullopt;
  return v;
}

namespace {
template <typename T>
std::optional<std::vector<T>> parse_list(const std::string& text, char separator,
                                         std::optional<T> (*parse_item)(const std::string&)) {
  std::vector<T> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, separator);) {
    const std::optional<T> v = parse_item(item);
    if (!v) return std::nullopt;
    out.push_back(*v);
  }
  return out;
}
}  // namespace

std::optional<std::vector<double>> parse_double_list(const std::string& text, char separator) {
  return parse_list<double>(text, separator, parse_double);
}

std::optional<std::vector<int64_t>> parse_int64_list(const std::string& text, char separator) {
  return parse_list<int64_t>(text, separator, parse_int64);
}

}  // namespace sc
