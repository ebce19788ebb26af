#include "apps/image_selection.h"

#include "nn/error.h"
#include "nn/parse_number.h"

namespace sc::app {

Shard parse_shard(const std::string& text, const std::string& option) {
  const size_t slash = text.find('/');
  const auto k = parse_int64(text.substr(0, slash));
  const auto n = slash == std::string::npos ? std::nullopt : parse_int64(text.substr(slash + 1));
  SC_CHECK(k && n && *n >= 1 && *k >= 0 && *k < *n, "--", option,
           ": expected K/N, part K (from 0) of N, with 0 <= K < N, got '", text, "'");
  return {*k, *n};
}

std::vector<int64_t> select_indices(int64_t size, int64_t skip, int64_t max, int64_t after, Shard shard) {
  std::vector<int64_t> out;
  int64_t position = 0;  // in the whole selection, so that a resumed part keeps its indices
  for (int64_t i = 0; i < size; ++i) {
    if (i % skip != 0) continue;
    if (i == max) break;
    if (position++ % shard.count != shard.index) continue;
    if (i > after) out.push_back(i);
  }
  return out;
}

}  // namespace sc::app
