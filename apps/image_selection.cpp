#include "apps/image_selection.h"

namespace sc::app {

std::vector<int64_t> select_indices(int64_t size, int64_t skip, int64_t max, int64_t after) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < size; ++i) {
    if (i % skip != 0) continue;
    if (i == max) break;
    if (i > after) out.push_back(i);
  }
  return out;
}

}  // namespace sc::app
