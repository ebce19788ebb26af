// Which dataset indices a command processes, with Cohen et al.'s semantics: every i with i % skip == 0, stopping
// when i == max (max = −1: no stop). Shared by certify, predict and eval so that their rows line up.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sc::app {

// Part `index` of `count` interleaved parts of a selection (--shard K/N: one process per device, each writing
// its own file; `smoothcuda merge` joins them): the selection's k-th index belongs to part k mod N.
struct Shard {
  int64_t index = 0, count = 1;
};
// "K/N" with 0 ≤ K < N; the option's name goes into the error.
Shard parse_shard(const std::string& text, const std::string& option);

// The selected indices of part `shard`, only those after `after` (a resumed run's last row).
std::vector<int64_t> select_indices(int64_t size, int64_t skip, int64_t max, int64_t after = -1,
                                    Shard shard = {});

}  // namespace sc::app
