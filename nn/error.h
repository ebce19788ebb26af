// Errors: one exception type whose message says what is wrong with which input.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace sc {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace sc

// SC_CHECK(cond, parts...): throws sc::Error built from the parts when cond is false.
#define SC_CHECK(cond, ...)                                                \
  do {                                                                     \
    if (!(cond)) throw ::sc::Error(::sc::detail::concat(__VA_ARGS__));     \
  } while (0)

#define SC_FAIL(...) throw ::sc::Error(::sc::detail::concat(__VA_ARGS__))
