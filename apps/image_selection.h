// Which dataset indices a command processes, with Cohen et al.'s semantics: every i with i % skip == 0,
// stopping when i == max (max = −1: no stop). Shared by every command that walks a dataset so that their rows
// line up.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "apps/args.h"

namespace sc::app {

// --skip and --max (or --test-skip and --test-max: prefix "test-").
struct Selection {
  int64_t skip = 1, max = -1;
};
// Reads and checks them. Cohen's loop skips an index before comparing it with max, so a max that skip does
// not divide would never stop it and every image would be processed: refused.
Selection parse_selection(const Args& args, const std::string& prefix = "");

// Part `index` of `count` interleaved parts of a selection (--shard K/N: one process per device, each writing
// its own file; `smoothcuda merge` joins them): the selection's k-th index belongs to part k mod N.
struct Shard {
  int64_t index = 0, count = 1;
};
// "K/N" with 0 ≤ K < N; the option's name goes into the error.
Shard parse_shard(const std::string& text, const std::string& option);

// The selected indices of part `shard`.
std::vector<int64_t> select_indices(int64_t size, Selection selection, Shard shard = {});

}  // namespace sc::app
