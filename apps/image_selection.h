// Which dataset indices a command processes, with Cohen et al.'s semantics: every i with i % skip == 0, stopping
// when i == max (max = −1: no stop). Shared by certify, predict and eval so that their rows line up.
#pragma once
#include <cstdint>
#include <vector>

namespace sc::app {

std::vector<int64_t> select_indices(int64_t size, int64_t skip, int64_t max, int64_t after = -1);

}  // namespace sc::app
