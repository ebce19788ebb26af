// Test entry point: poisons every new buffer (so unwritten output elements show as NaN or −1) and says whether
// the CUDA tests can run here.
#include <gtest/gtest.h>

#include <cstdio>

#include "nn/memory.h"
#include "nn/runtime.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  sc::set_poison_new_buffers(true);
  sc::set_sync_after_launch(true);  // a failing kernel is reported at its own launch
  if (!sc::cuda_available()) std::printf("[smoothcuda] CUDA tests skip: %s\n", sc::cuda_unavailable_reason().c_str());
  return RUN_ALL_TESTS();
}
