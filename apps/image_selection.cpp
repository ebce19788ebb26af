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

Selection parse_selection(const Args& args, const std::string& prefix) {
  const Selection s{args.get_int(prefix + "skip", 1, 1LL << 40), args.get_int(prefix + "max", -1, 1LL << 40)};
  SC_CHECK(
      s.max < 0 || s.max % s.skip == 0, "--", prefix, "max ", s.max, " is not a multiple of --", prefix,
      "skip ", s.skip, ": the selection stops only at an index equal to max (as in Cohen et al.'s scripts), ",
      "so it would never stop; give a multiple of --", prefix, "skip, e.g. ", (s.max / s.skip + 1) * s.skip);
  return s;
}

std::vector<int64_t> select_indices(int64_t size, Selection selection, Shard shard) {
  std::vector<int64_t> out;
  int64_t position = 0;  // in the whole selection, so that a resumed part keeps its indices
  for (int64_t i = 0; i < size; ++i) {
    if (i % selection.skip != 0) continue;
    if (i == selection.max) break;
    if (position++ % shard.count == shard.index) out.push_back(i);
  }
  return out;
}

}  // namespace sc::app
