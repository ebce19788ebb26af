// The fiber scheduler and the warp collectives of the SIMT emulator (simt.h).
#include "simt.h"

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(SC_SIMT_RACES)
#include <sanitizer/tsan_interface.h>
#endif

// The linker's bounds of the section that holds every static __shared__ array (simt.h).
extern "C" char __start_simt_shared[] __attribute__((weak));
extern "C" char __stop_simt_shared[] __attribute__((weak));

// Switching between fibers. glibc's swapcontext saves and restores the signal mask with a system call on
// every switch, which took 40% of the emulator's time; on x86-64 a switch here saves the callee-saved
// registers and the floating-point control words on the old stack and swaps stack pointers (System V ABI),
// with no system call.
#if defined(__x86_64__)
extern "C" void simt_switch_stacks(void** save_sp, void* load_sp);
extern "C" void simt_fiber_start();
asm(R"(
  .text
  .globl simt_switch_stacks
  .hidden simt_switch_stacks
  .type simt_switch_stacks, @function
simt_switch_stacks:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size simt_switch_stacks, .-simt_switch_stacks

  .globl simt_fiber_start
  .hidden simt_fiber_start
  .type simt_fiber_start, @function
simt_fiber_start:
  callq *%r13
  ud2
  .size simt_fiber_start, .-simt_fiber_start
)");
#endif

namespace simt {
namespace {

// Under AddressSanitizer (scripts/emulator-sanitizer.sh address) every switch tells it which stack runs next,
// so that it checks each fiber's stack accesses against that stack: a Context knows its stack, and the
// scheduler's (the launching thread's own stack) is learnt from the first switch into a fiber.
struct StackBounds {
  const void* bottom = nullptr;
  size_t size = 0;
};
#if defined(__SANITIZE_ADDRESS__)
thread_local StackBounds g_scheduler_stack;
// A stack reused by a new fiber may still carry the poisoned redzones of an abandoned one's frames.
void clear_stack(char* stack, size_t bytes) {
  ASAN_UNPOISON_MEMORY_REGION(stack, bytes);
}
void before_switch(void** fake_stack, const StackBounds& to) {
  __sanitizer_start_switch_fiber(fake_stack, to.bottom != nullptr ? to.bottom : g_scheduler_stack.bottom,
                                 to.bottom != nullptr ? to.size : g_scheduler_stack.size);
}
// On resuming: where the scheduler resumes a fiber, the previous stack was the scheduler's.
void after_switch(void* fake_stack, bool in_fiber) {
  StackBounds from;
  __sanitizer_finish_switch_fiber(fake_stack, &from.bottom, &from.size);
  if (in_fiber) g_scheduler_stack = from;
}
#else
void clear_stack(char*, size_t) {}
void before_switch(void**, const StackBounds&) {}
void after_switch(void*, bool) {}
#endif

// Race detection (scripts/emulator-sanitizer.sh thread builds the emulator with ThreadSanitizer and this
// file, which is not instrumented itself, with SC_SIMT_RACES): every fiber is a ThreadSanitizer fiber,
// switched to without synchronizing, so that two threads' accesses to one address conflict unless the CUDA
// model orders them. The orderings are given explicitly: a block's start after the host's work and the blocks
// before it (so races between blocks are not seen); each __syncthreads (every thread's accesses before it
// before every thread's accesses after it); and every switch back to the scheduler (the host's thread)
// synchronizes, so that the host, which goes on once the grid is done or has failed, comes after every
// thread. The accesses the emulator makes for a thread are declared in its name: ldmatrix's rows, cp.async's
// 16 bytes (when issued and when landed: the device writes them at some time between issue and wait), and
// wgmma's operand chunks (when issued and when the product is computed). Warp collectives order nothing, as
// on the device without __syncwarp.
#if defined(SC_SIMT_RACES)
extern "C" {
void __tsan_read16(void* address);  // the instrumentation's own entry points, in no header
void __tsan_write16(void* address);
}
namespace races {
// A fiber's ThreadSanitizer context, kept from launch to launch like its stack.
void* fiber_for(size_t slot) {
  static std::vector<void*> fibers;
  while (fibers.size() <= slot) fibers.push_back(__tsan_create_fiber(0));
  return fibers[slot];
}
void* running() {
  return __tsan_get_current_fiber();
}
void switch_to(void* fiber, bool synchronize) {
  __tsan_switch_to_fiber(fiber, synchronize ? 0 : __tsan_switch_to_fiber_no_sync);
}
void release(void* sync) {
  __tsan_release(sync);
}
void acquire(void* sync) {
  __tsan_acquire(sync);
}
void read16(const void* p) {
  __tsan_read16(const_cast<void*>(p));
}
void write16(void* p) {
  __tsan_write16(p);
}
}  // namespace races
#else
namespace races {
void* fiber_for(size_t) {
  return nullptr;
}
void* running() {
  return nullptr;
}
void switch_to(void*, bool) {}
void release(void*) {}
void acquire(void*) {}
void read16(const void*) {}
void write16(void*) {}
}  // namespace races
#endif
// The synchronization objects of those orderings (their addresses are what counts).
struct RaceSync {
  char block_start, barrier[2];
} g_race_sync;

#if defined(__x86_64__)
struct Context {
  void* sp = nullptr;
  StackBounds stack;           // unset for the scheduler
  void* race_fiber = nullptr;  // ThreadSanitizer's context (SC_SIMT_RACES)
};
// A first switch to c enters entry (which never returns) on the given stack: the frame below is what
// simt_switch_stacks pops (control words, r15, r14, r13 = entry, r12, rbx, rbp, return address), placed so
// that the stack is 16-byte aligned at entry's call.
void start_context(Context& c, char* stack, size_t bytes, void (*entry)()) {
  clear_stack(stack, bytes);
  auto top = reinterpret_cast<uintptr_t>(stack + bytes) & ~uintptr_t{15};
  auto* frame = reinterpret_cast<uint64_t*>(top - 80);
  uint32_t mxcsr;
  uint16_t fpu_control;
  asm volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(mxcsr), "=m"(fpu_control));
  frame[0] = mxcsr | uint64_t{fpu_control} << 32;
  for (int i = 1; i < 7; ++i) frame[i] = 0;
  frame[3] = reinterpret_cast<uint64_t>(entry);
  frame[7] = reinterpret_cast<uint64_t>(&simt_fiber_start);
  c.sp = frame;
  c.stack = {stack, bytes};
}
void switch_context(Context& from, Context& to) {
  void* fake_stack = nullptr;
  before_switch(&fake_stack, to.stack);
  if (to.race_fiber != nullptr) races::switch_to(to.race_fiber, to.stack.bottom == nullptr);
  simt_switch_stacks(&from.sp, to.sp);
  after_switch(fake_stack, from.stack.bottom != nullptr);
}
#else
struct Context {
  ucontext_t ctx;
  StackBounds stack;
  void* race_fiber = nullptr;
};
void start_context(Context& c, char* stack, size_t bytes, void (*entry)()) {
  clear_stack(stack, bytes);
  getcontext(&c.ctx);
  c.ctx.uc_stack.ss_sp = stack;
  c.ctx.uc_stack.ss_size = bytes;
  c.ctx.uc_link = nullptr;
  makecontext(&c.ctx, entry, 0);
  c.stack = {stack, bytes};
}
void switch_context(Context& from, Context& to) {
  void* fake_stack = nullptr;
  before_switch(&fake_stack, to.stack);
  if (to.race_fiber != nullptr) races::switch_to(to.race_fiber, to.stack.bottom == nullptr);
  swapcontext(&from.ctx, &to.ctx);
  after_switch(fake_stack, from.stack.bottom != nullptr);
}
#endif

constexpr int kWarp = 32;
constexpr size_t kStackBytes = 256 * 1024;
constexpr size_t kDefaultDynamicShared = 48 * 1024;

std::map<const void*, size_t>& opted_in_shared() {  // per kernel, by cudaFuncSetAttribute
  static std::map<const void*, size_t> limits;
  return limits;
}

// Passed: through a completed barrier, not yet resumed (the schedule decides when its warp goes on).
enum class Wait { Running, Block, Warp, Passed, Done };
enum class Collective { None, ShflXor, ShflDown, Mma, MmaTf32, Ldmatrix, LdmatrixTrans, Wgmma };

const char* collective_name(Collective c) {
  switch (c) {
    case Collective::ShflXor:
      return "shfl_xor";
    case Collective::ShflDown:
      return "shfl_down";
    case Collective::Mma:
      return "mma.m16n8k16";
    case Collective::MmaTf32:
      return "mma.m16n8k8.tf32";
    case Collective::Ldmatrix:
      return "ldmatrix.x4";
    case Collective::LdmatrixTrans:
      return "ldmatrix.x4.trans";
    case Collective::Wgmma:
      return "wgmma.mma_async";
    default:
      return "none";
  }
}

// What one lane hands to a warp collective. Double-buffered by the parity of the lane's collective count:
// a lane can run at most one collective ahead of the slowest lane of its warp, so it never overwrites a slot
// another lane still reads.
struct Slot {
  uint32_t a[4], b[2];
  uint64_t bits;
  const void* ptr;
};

struct PendingCopy {  // a cp.async not yet landed
  void* dst;
  const void* src;  // null: zero fill
  uint64_t group;   // the index its commit group has or will have
};

struct PendingProduct {  // a wgmma not yet completed: this lane's part of it
  float* d;
  int n;
  uint64_t desc_a, desc_b;
  bool bf16;
  int row, quad;  // the lane's first accumulator row (of the 64) and its column pair (lane % 4)
  uint64_t group;
};

struct Fiber {
  Context ctx;
  ThreadState state;
  Wait wait = Wait::Running;
  Collective at = Collective::None;
  uint64_t collectives = 0;
  std::vector<PendingCopy> copies;
  uint64_t copy_groups = 0;  // committed so far
  std::vector<PendingProduct> products;
  uint64_t product_groups = 0;
  uint64_t barriers = 0;  // __syncthreads passed in this block
};

// One cp.async's 16 bytes, in the name of the running thread.
void land_copy(void* dst, const void* src) {
  races::write16(dst);
  if (src == nullptr) {
    std::memset(dst, 0, 16);
    return;
  }
  races::read16(src);
  std::memcpy(dst, src, 16);
}

// Lands the copies of groups before `group_end` (and, with all, the uncommitted ones too), in issue order.
void land_copies(Fiber& f, uint64_t group_end = ~uint64_t{0}) {
  size_t kept = 0;
  for (const PendingCopy& c : f.copies) {
    if (c.group >= group_end) {
      f.copies[kept++] = c;
      continue;
    }
    land_copy(c.dst, c.src);
  }
  f.copies.resize(kept);
}

// An mma's operands as floats, A (16×16) and B (16×8), decoded once per warp from its lanes' fragments.
struct MmaOperands {
  uint64_t collective = 0;  // 1 + the index of the collective they were decoded for; 0: none yet
  float a[16][16], b[16][8];
};

struct WarpState {
  int lanes = 0, arrived = 0;
  Slot slots[2][kWarp];
  MmaOperands mma[2];  // by the same parity as slots
};

struct Grid {
  std::vector<Fiber> fibers;
  std::vector<WarpState> warps;
  std::vector<unsigned char> dynamic;
  std::vector<size_t> ready;  // release's scratch: warps that can go on
  const std::function<void()>* body = nullptr;
  Context scheduler;
  Fiber* running = nullptr;
  int block_arrived = 0, live = 0;
  std::exception_ptr error;
};

Grid* g_grid = nullptr;

Grid& grid() {
  if (g_grid == nullptr) throw std::logic_error("simt: a CUDA built-in was used outside an emulated launch");
  return *g_grid;
}

int linear_thread(const ThreadState& s) {
  return static_cast<int>((s.thread_idx.z * s.block_dim.y + s.thread_idx.y) * s.block_dim.x + s.thread_idx.x);
}

// A fiber runs its thread of one block after another: run_block resumes it with the next block's state.
[[noreturn]] void fiber_main() {
  after_switch(nullptr, true);  // the first switch into this fiber ends here
  for (;;) {
    Grid& g = *g_grid;
    Fiber& f = *g.running;
    races::acquire(&g_race_sync.block_start);
    try {
      (*g.body)();
    } catch (...) {
      if (!g.error) g.error = std::current_exception();
    }
    land_copies(f);  // the hardware completes a thread's copies after it exits
    if (!f.products.empty() && !g.error)
      g.error =
          std::make_exception_ptr(std::runtime_error("simt: a thread exited with wgmma products pending"));
    f.wait = Wait::Done;
    --g.live;
    --g.warps[static_cast<size_t>(linear_thread(f.state) / kWarp)].lanes;
    switch_context(f.ctx, g.scheduler);
  }
}

// Fiber stacks, kept from launch to launch: allocating (and zeroing) them per launch cost more than many
// small kernels.
char* fiber_stack(size_t index) {
  static std::vector<std::unique_ptr<char[]>> stacks;
  while (stacks.size() <= index) stacks.emplace_back(new char[kStackBytes]);
  return stacks[index].get();
}

// The running fiber stops here until the scheduler releases it.
void yield(Wait why) {
  Grid& g = grid();
  Fiber& f = *g.running;
  f.wait = why;
  switch_context(f.ctx, g.scheduler);
}

Fiber& self() {
  return *grid().running;
}
int lane_of(const Fiber& f) {
  return linear_thread(f.state) % kWarp;
}
WarpState& warp_of(const Fiber& f) {
  return grid().warps[static_cast<size_t>(linear_thread(f.state) / kWarp)];
}

// Deposits nothing itself: the caller has filled its slot; returns the slots of every lane once all arrived.
const Slot* arrive_at_warp(Collective c) {
  Fiber& f = self();
  WarpState& w = warp_of(f);
  const int parity = static_cast<int>(f.collectives % 2);
  ++f.collectives;
  f.at = c;
  ++w.arrived;
  yield(Wait::Warp);
  return w.slots[parity];
}
// The index, counted from 0, of the running lane's last collective (its parity picks the slots).
uint64_t last_collective() {
  return self().collectives - 1;
}

Slot& my_slot() {
  Fiber& f = self();
  return warp_of(f).slots[f.collectives % 2][lane_of(f)];
}

[[noreturn]] void deadlock(const Grid& g, const ThreadState& any) {
  int at_block = 0, at_warp = 0, done = 0;
  for (const Fiber& f : g.fibers) {
    at_block += f.wait == Wait::Block;
    at_warp += f.wait == Wait::Warp;
    done += f.wait == Wait::Done;
  }
  std::ostringstream os;
  os << "simt: deadlock in block (" << any.block_idx.x << ", " << any.block_idx.y << ", " << any.block_idx.z
     << "): " << at_block << " threads at __syncthreads, " << at_warp << " at warp collectives, " << done
     << " exited (a barrier in divergent code, or a warp collective with lanes missing)";
  throw std::runtime_error(os.str());
}

// The schedules' random numbers (splitmix64): std::mt19937 took 5% of the emulator's time.
struct Rng {
  using result_type = uint64_t;
  uint64_t state;
  static constexpr uint64_t min() { return 0; }
  static constexpr uint64_t max() { return ~uint64_t{0}; }
  uint64_t operator()() {
    uint64_t z = state += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
};

// How a block's warps advance against each other. Fibers switch only at barriers and collectives, so with
// every warp released together the warps would move in lockstep and a missing __syncthreads between one
// warp's shared-memory reads and another's writes could never show; the other schedules let warps run ahead,
// past barriers too: a completed barrier frees each warp only when the schedule picks it.
enum class Schedule { Lockstep, LowestWarpFirst, HighestWarpFirst, RandomWarps };

// Resumes warps that can go on (all lanes at the same collective, or through a completed barrier); which of
// them: the schedule. Else completes the block barrier when every live thread is at it. False when nothing
// can move.
bool release(Grid& g, int block_threads, Schedule schedule, Rng& rng) {
  // The fibers of warp wi: [lanes_begin, lanes_end).
  auto lanes_begin = [&](size_t wi) { return g.fibers.begin() + static_cast<std::ptrdiff_t>(wi * kWarp); };
  auto lanes_end = [&](size_t wi) {
    return g.fibers.begin() +
           std::min<std::ptrdiff_t>(static_cast<std::ptrdiff_t>((wi + 1) * kWarp), block_threads);
  };
  auto passed_barrier = [](const Fiber& f) { return f.wait == Wait::Passed; };
  std::vector<size_t>& ready = g.ready;
  ready.clear();
  for (size_t wi = 0; wi < g.warps.size(); ++wi) {
    const WarpState& w = g.warps[wi];
    const bool collective =
        w.arrived > 0 && w.arrived == lanes_end(wi) - lanes_begin(wi) && w.lanes == w.arrived;
    if (collective || std::any_of(lanes_begin(wi), lanes_end(wi), passed_barrier)) ready.push_back(wi);
  }
  if (!ready.empty()) {
    size_t first = 0, count = ready.size();
    if (schedule == Schedule::LowestWarpFirst) count = 1;
    if (schedule == Schedule::HighestWarpFirst) first = ready.size() - 1, count = 1;
    if (schedule == Schedule::RandomWarps) {
      std::shuffle(ready.begin(), ready.end(), rng);
      count = 1 + rng() % ready.size();
    }
    for (size_t i = first; i < first + count; ++i) {
      const auto begin = lanes_begin(ready[i]), end = lanes_end(ready[i]);
      if (std::any_of(begin, end, passed_barrier)) {
        for (auto f = begin; f != end; ++f)
          if (f->wait == Wait::Passed) f->wait = Wait::Running;
        continue;
      }
      Collective kind = Collective::None;
      for (auto f = begin; f != end; ++f) {
        if (kind == Collective::None) kind = f->at;
        if (f->at != kind)
          throw std::runtime_error(std::string("simt: lanes of one warp reached different collectives (") +
                                   collective_name(kind) + " and " + collective_name(f->at) + ")");
        f->wait = Wait::Running;
      }
      g.warps[ready[i]].arrived = 0;
    }
    return true;
  }
  if (g.block_arrived > 0 && g.block_arrived == g.live) {
    for (Fiber& f : g.fibers)
      if (f.wait == Wait::Block) f.wait = Wait::Passed;
    g.block_arrived = 0;
    return true;
  }
  return false;
}

void run_block(Grid& g, const ThreadState& block, long long block_number, Rng& rng) {
  const int threads = static_cast<int>(block.block_dim.x * block.block_dim.y * block.block_dim.z);
  std::fill(g.dynamic.begin(), g.dynamic.end(), 0xFF);
  if (__start_simt_shared != nullptr) std::fill(__start_simt_shared, __stop_simt_shared, 0xFF);
  g.warps.resize(static_cast<size_t>((threads + kWarp - 1) / kWarp));
  for (size_t wi = 0; wi < g.warps.size(); ++wi) {  // the slots need no reset: lanes write before they read
    WarpState& w = g.warps[wi];
    w.lanes = std::min(kWarp, threads - static_cast<int>(wi) * kWarp);
    w.arrived = 0;
    w.mma[0].collective = w.mma[1].collective = 0;
  }
  g.live = threads;
  g.block_arrived = 0;
  for (int t = 0; t < threads; ++t) {
    Fiber& f = g.fibers[static_cast<size_t>(t)];
    f.state = block;
    f.state.thread_idx = make_uint3(static_cast<unsigned>(t) % block.block_dim.x,
                                    static_cast<unsigned>(t) / block.block_dim.x % block.block_dim.y,
                                    static_cast<unsigned>(t) / (block.block_dim.x * block.block_dim.y));
    f.wait = Wait::Running;
    f.at = Collective::None;
    f.collectives = 0;
    f.copies.clear();
    f.copy_groups = 0;
    f.products.clear();
    f.product_groups = 0;
    f.barriers = 0;
  }
  // The host's work, the blocks before and the shared memory's refill come before this block's threads.
  races::release(&g_race_sync.block_start);
  // Each pass runs every runnable fiber up to its next barrier or collective, in a fresh random order, so
  // that a read of another thread's shared-memory write without a barrier between them shows up; blocks take
  // the four warp schedules in turn.
  const Schedule schedule = static_cast<Schedule>(block_number % 4);
  std::vector<int> order(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) order[static_cast<size_t>(t)] = t;
  while (g.live > 0) {
    std::shuffle(order.begin(), order.end(), rng);
    for (int t : order) {
      Fiber& f = g.fibers[static_cast<size_t>(t)];
      if (f.wait != Wait::Running) continue;
      g.running = &f;
      switch_context(g.scheduler, f.ctx);
      g.running = nullptr;
      if (g.error) std::rethrow_exception(g.error);
    }
    if (g.live > 0 && !release(g, threads, schedule, rng)) deadlock(g, block);
  }
}

}  // namespace

namespace {
void (*g_pointer_check)(const void*) = nullptr;
}  // namespace
void set_pointer_check(void (*check)(const void*)) {
  g_pointer_check = check;
}
void check_pointer(const void* p) {
  if (p != nullptr && g_pointer_check != nullptr) g_pointer_check(p);
}

const ThreadState& current() {
  Grid& g = grid();
  if (g.running == nullptr) throw std::logic_error("simt: no running thread");
  return g.running->state;
}

namespace {
std::vector<std::function<void()>>* g_recorder = nullptr;
}
void set_launch_recorder(std::vector<std::function<void()>>* recorder) {
  g_recorder = recorder;
}

void run_grid(const void* kernel, dim3 grid_dim, dim3 block_dim, size_t dynamic_shared_bytes,
              const std::function<void()>& body) {
  const long long threads = 1LL * block_dim.x * block_dim.y * block_dim.z;
  if (threads < 1 || threads > 1024 || block_dim.z > 64)
    throw std::invalid_argument("simt: invalid block of " + std::to_string(threads) + " threads");
  if (grid_dim.x < 1 || grid_dim.y < 1 || grid_dim.z < 1 || grid_dim.y > 65535 || grid_dim.z > 65535)
    throw std::invalid_argument("simt: invalid grid");
  const auto opted = opted_in_shared().find(kernel);
  const size_t limit = opted == opted_in_shared().end() ? kDefaultDynamicShared : opted->second;
  if (dynamic_shared_bytes > limit)
    throw std::invalid_argument("simt: " + std::to_string(dynamic_shared_bytes) +
                                " bytes of dynamic shared memory exceed the kernel's limit of " +
                                std::to_string(limit) + " (cudaFuncSetAttribute raises it)");
  if (g_recorder != nullptr) {
    g_recorder->push_back([=] { run_grid(kernel, grid_dim, block_dim, dynamic_shared_bytes, body); });
    return;
  }
  if (g_grid != nullptr) throw std::logic_error("simt: nested launch");
  Grid g;
  g.body = &body;
  g.dynamic.resize(dynamic_shared_bytes);
  g.fibers.resize(static_cast<size_t>(threads));
  g.scheduler.race_fiber = races::running();
  for (size_t t = 0; t < g.fibers.size(); ++t) {
    start_context(g.fibers[t].ctx, fiber_stack(t), kStackBytes, fiber_main);
    g.fibers[t].ctx.race_fiber = races::fiber_for(t);
  }
  Rng rng{12345};
  g_grid = &g;
  long long block_number = 0;
  try {
    for (unsigned z = 0; z < grid_dim.z; ++z)
      for (unsigned y = 0; y < grid_dim.y; ++y)
        for (unsigned x = 0; x < grid_dim.x; ++x) {
          ThreadState block{};
          block.block_idx = make_uint3(x, y, z);
          block.block_dim = block_dim;
          block.grid_dim = grid_dim;
          run_block(g, block, block_number++, rng);
        }
  } catch (...) {
    g_grid = nullptr;  // fibers left suspended are abandoned; the next launch starts their stacks afresh
    throw;
  }
  g_grid = nullptr;
}

void* dynamic_shared() {
  Grid& g = grid();
  return g.dynamic.empty() ? nullptr : g.dynamic.data();
}

cudaError_t set_function_attribute(const void* kernel, cudaFuncAttribute attribute, int value) {
  if (attribute != cudaFuncAttributeMaxDynamicSharedMemorySize)
    throw std::invalid_argument("simt: cudaFuncSetAttribute: attribute not emulated");
  if (value < 0 || value > kMaxSharedOptin) return cudaErrorInvalidValue;
  opted_in_shared()[kernel] = static_cast<size_t>(value);
  return cudaSuccess;
}

namespace {
std::atomic<int> g_multiprocessors{132};
}  // namespace

void set_multiprocessor_count(int count) {
  g_multiprocessors = count;
}

cudaError_t get_device_attribute(int* value, cudaDeviceAttr attribute, int) {
  switch (attribute) {  // an H100 SXM's
    case cudaDevAttrMaxSharedMemoryPerBlockOptin:
      *value = kMaxSharedOptin;
      return cudaSuccess;
    case cudaDevAttrL2CacheSize:
      *value = 50 * 1024 * 1024;
      return cudaSuccess;
    case cudaDevAttrMultiProcessorCount:
      *value = g_multiprocessors;
      return cudaSuccess;
    default:
      throw std::invalid_argument("simt: cudaDeviceGetAttribute: attribute not emulated");
  }
}

void sync_block() {
  Grid& g = grid();
  // Two objects in turn: a warp that runs on to the next barrier before another has left this one must not
  // pass its later accesses to it.
  void* sync = &g_race_sync.barrier[g.running->barriers++ % 2];
  races::release(sync);
  ++g.block_arrived;
  yield(Wait::Block);
  races::acquire(sync);
}

namespace {
// Whether an asynchronous operation completes at once (cp.async, wgmma): splitmix64 of a running count,
// deterministic from run to run, mixed within a launch.
bool coin() {
  static uint64_t count = 0;
  uint64_t z = (count += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return (z ^ (z >> 31)) & 1;
}
}  // namespace

void cp_async_16(void* shared_dst, const void* global_src) {
  if (reinterpret_cast<uintptr_t>(shared_dst) % 16 != 0 || reinterpret_cast<uintptr_t>(global_src) % 16 != 0)
    throw std::runtime_error("simt: cp.async addresses not 16-byte aligned");
  Fiber& f = self();
  races::write16(shared_dst);  // the copy may write from its issue on
  if (!coin()) return f.copies.push_back({shared_dst, global_src, f.copy_groups});
  land_copy(shared_dst, global_src);
}

void cp_async_commit_group() {
  ++self().copy_groups;
}

void cp_async_wait_group(int n) {
  Fiber& f = self();
  if (n < 0) throw std::invalid_argument("simt: cp.async.wait_group with a negative count");
  if (static_cast<uint64_t>(n) < f.copy_groups) land_copies(f, f.copy_groups - static_cast<uint64_t>(n));
}

void cp_async_wait_all() {
  land_copies(self());
}

uint32_t shared_address(const void* p) {
  Grid& g = grid();
  const auto* c = static_cast<const unsigned char*>(p);
  if (g.dynamic.empty() || c < g.dynamic.data() || c >= g.dynamic.data() + g.dynamic.size())
    throw std::runtime_error("simt: shared_address of a pointer outside the block's dynamic shared memory");
  return kDynamicSharedBase + static_cast<uint32_t>(c - g.dynamic.data());
}

uint64_t shuffle(uint64_t bits, int offset, bool down) {
  my_slot().bits = bits;
  const int lane = lane_of(self());
  const Slot* all = arrive_at_warp(down ? Collective::ShflDown : Collective::ShflXor);
  // shfl.down: lanes whose source lies past the warp keep their own value.
  const int source = down ? lane + offset : (lane ^ offset) & (kWarp - 1);
  return source < kWarp ? all[source].bits : bits;
}

namespace {
float half_to_float(uint16_t bits, bool bf16) {
  return bf16 ? __bfloat162float(__ushort_as_bfloat16(bits)) : __half2float(__ushort_as_half(bits));
}
uint16_t half_of(uint32_t reg, int which) {
  return static_cast<uint16_t>(which == 0 ? reg & 0xFFFFu : reg >> 16);
}

// The warp's product d = A·B + d over k_size columns of k, from the operands the warp's first lane to resume
// decoded (decode(op) fills op.a and op.b) for the collective just completed; accumulated in double.
template <typename Decode>
void warp_mma(float d[4], Collective kind, int k_size, Decode decode) {
  const int lane = lane_of(self());
  const Slot* all = arrive_at_warp(kind);
  const uint64_t index = last_collective();
  MmaOperands& op = warp_of(self()).mma[index % 2];
  if (op.collective != index + 1) {
    decode(all, op);
    op.collective = index + 1;
  }
  for (int reg = 0; reg < 4; ++reg) {
    const int r = lane / 4 + 8 * (reg / 2), n = 2 * (lane % 4) + reg % 2;
    double acc = d[reg];
    for (int k = 0; k < k_size; ++k) acc += static_cast<double>(op.a[r][k]) * op.b[k][n];
    d[reg] = static_cast<float>(acc);
  }
}

void hand_to_warp(const uint32_t a[4], const uint32_t b[2]) {
  Slot& mine = my_slot();
  std::memcpy(mine.a, a, sizeof(mine.a));
  std::memcpy(mine.b, b, sizeof(mine.b));
}

float tf32_operand(uint32_t bits) {  // what the tensor cores read of a float: its upper 19 bits
  bits &= 0xffffe000u;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
}  // namespace

// The fragment layouts of the PTX ISA (mma.m16n8k16 with 16-bit A/B), written from the element's side:
//   A (16×16, row-major) element (r, k): lane 4·(r mod 8) + (k mod 8)/2, register (r div 8) + 2·(k div 8),
//   half k mod 2;  B (16×8) element (k, n): lane 4·n + (k mod 8)/2, register k div 8, half k mod 2;
//   C/D (16×8) element (r, n): lane 4·(r mod 8) + n/2, register 2·(r div 8) + n mod 2.
void mma_m16n8k16(float d[4], const uint32_t a[4], const uint32_t b[2], bool bf16) {
  hand_to_warp(a, b);
  warp_mma(d, Collective::Mma, 16, [bf16](const Slot* all, MmaOperands& op) {
    for (int r = 0; r < 16; ++r)
      for (int k = 0; k < 16; ++k)
        op.a[r][k] =
            half_to_float(half_of(all[4 * (r % 8) + (k % 8) / 2].a[r / 8 + 2 * (k / 8)], k % 2), bf16);
    for (int k = 0; k < 16; ++k)
      for (int n = 0; n < 8; ++n)
        op.b[k][n] = half_to_float(half_of(all[4 * n + (k % 8) / 2].b[k / 8], k % 2), bf16);
  });
}

// mma.m16n8k8 with .tf32 A/B, one 32-bit element per register:
//   A (16×8) element (r, k): lane 4·(r mod 8) + k mod 4, register (r div 8) + 2·(k div 4);
//   B (8×8) element (k, n): lane 4·n + k mod 4, register k div 4;  C/D as for m16n8k16.
void mma_m16n8k8_tf32(float d[4], const uint32_t a[4], const uint32_t b[2]) {
  hand_to_warp(a, b);
  warp_mma(d, Collective::MmaTf32, 8, [](const Slot* all, MmaOperands& op) {
    for (int r = 0; r < 16; ++r)
      for (int k = 0; k < 8; ++k) op.a[r][k] = tf32_operand(all[4 * (r % 8) + k % 4].a[r / 8 + 2 * (k / 4)]);
    for (int k = 0; k < 8; ++k)
      for (int n = 0; n < 8; ++n) op.b[k][n] = tf32_operand(all[4 * n + k % 4].b[k / 4]);
  });
}

// ldmatrix .x4: lanes 8i … 8i + 7 give the addresses of rows 0 … 7 of matrix i (16 bytes each, 16-byte
// aligned). Register i of lane l receives matrix i's elements (l/4, 2(l%4)) and (l/4, 2(l%4) + 1), or with
// .trans its elements (2(l%4), l/4) and (2(l%4) + 1, l/4).
void ldmatrix_x4(uint32_t r[4], const void* row, bool trans) {
  if (reinterpret_cast<uintptr_t>(row) % 16 != 0)
    throw std::runtime_error("simt: ldmatrix row address not 16-byte aligned");
  my_slot().ptr = row;
  races::read16(row);
  const int lane = lane_of(self());
  const Slot* all = arrive_at_warp(trans ? Collective::LdmatrixTrans : Collective::Ldmatrix);
  auto element = [&](int matrix, int mr, int mc) {
    uint16_t v;
    std::memcpy(&v, static_cast<const char*>(all[8 * matrix + mr].ptr) + 2 * mc, 2);
    return static_cast<uint32_t>(v);
  };
  for (int i = 0; i < 4; ++i) {
    const int q = lane / 4, c = 2 * (lane % 4);
    r[i] =
        trans ? element(i, c, q) | element(i, c + 1, q) << 16 : element(i, q, c) | element(i, q, c + 1) << 16;
  }
}

namespace {
// Element (row, k) of a K-major operand in 128-byte swizzled rows, read through its matrix descriptor: bits
// 0–13 the start address / 16, 32–45 the stride between 8-row groups / 16, 49–51 the base offset, 62–63 the
// swizzle mode (1: 128 bytes). The swizzle XORs address bits 4–6 (the 16-byte chunk) with bits 7–9.
const unsigned char* descriptor_address(uint64_t desc, int row, int k) {
  if (desc >> 62 != 1 || ((desc >> 49) & 7) != 0)
    throw std::runtime_error(
        "simt: wgmma descriptor: only the 128-byte swizzle with base offset 0 is emulated");
  const uint32_t start = static_cast<uint32_t>(desc & 0x3FFF) << 4;
  const uint32_t stride = static_cast<uint32_t>((desc >> 32) & 0x3FFF) << 4;
  const uint32_t address = start + static_cast<uint32_t>(row / 8) * stride +
                           static_cast<uint32_t>(row % 8) * 128 + 2 * static_cast<uint32_t>(k);
  const uint32_t swizzled = address ^ (((address >> 7) & 7) << 4);
  const std::vector<unsigned char>& shared = grid().dynamic;
  if (swizzled < kDynamicSharedBase || swizzled + 2 > kDynamicSharedBase + shared.size())
    throw std::runtime_error("simt: wgmma operand outside the block's dynamic shared memory");
  return shared.data() + (swizzled - kDynamicSharedBase);
}
float descriptor_element(uint64_t desc, int row, int k, bool bf16) {
  uint16_t bits;
  std::memcpy(&bits, descriptor_address(desc, row, k), 2);
  return half_to_float(bits, bf16);
}

// The shared memory a warp's product reads, declared to the race detector in its lane 0's name: its 16 rows
// of A and every row of B, 16 k (two 16-byte chunks) each. Nothing to do without it.
void declare_operand_reads([[maybe_unused]] const PendingProduct& p) {
#if defined(SC_SIMT_RACES)
  if (p.row % 16 != 0 || p.quad != 0) return;
  for (int chunk = 0; chunk < 2; ++chunk) {
    for (int r = 0; r < 16; ++r) races::read16(descriptor_address(p.desc_a, p.row + r, 8 * chunk));
    for (int r = 0; r < p.n; ++r) races::read16(descriptor_address(p.desc_b, r, 8 * chunk));
  }
#endif
}

// This lane's part of a product: its 2 rows of A against the n columns of B, over k = 0 … 15, accumulated in
// double from its current d and rounded once.
void run_product(const PendingProduct& p) {
  declare_operand_reads(p);
  for (int half = 0; half < 2; ++half) {
    float a[16];
    for (int k = 0; k < 16; ++k) a[k] = descriptor_element(p.desc_a, p.row + 8 * half, k, p.bf16);
    for (int j = 0; j < p.n / 8; ++j)
      for (int c = 0; c < 2; ++c) {
        const int column = 8 * j + 2 * p.quad + c;
        float& out = p.d[4 * j + 2 * half + c];
        double acc = out;
        for (int k = 0; k < 16; ++k)
          acc += static_cast<double>(a[k]) * descriptor_element(p.desc_b, column, k, p.bf16);
        out = static_cast<float>(acc);
      }
  }
}
}  // namespace

void wgmma_m64k16(float* d, int n, uint64_t desc_a, uint64_t desc_b, bool bf16) {
  if (n < 8 || n > 256 || n % 8 != 0) throw std::invalid_argument("simt: wgmma: n must be 8, 16, … 256");
  const ThreadState& state = current();
  if (state.block_dim.x * state.block_dim.y * state.block_dim.z % 128 != 0)
    throw std::runtime_error("simt: wgmma in a block that is not made of whole warpgroups (128 threads)");
  Slot& mine = my_slot();
  mine.bits = desc_a;
  mine.a[0] = static_cast<uint32_t>(desc_b), mine.a[1] = static_cast<uint32_t>(desc_b >> 32);
  mine.b[0] = static_cast<uint32_t>(n), mine.b[1] = bf16;
  const int thread = linear_thread(state), lane = thread % kWarp;
  const Slot* all = arrive_at_warp(Collective::Wgmma);
  for (int l = 0; l < kWarp; ++l)
    if (all[l].bits != desc_a || all[l].a[0] != all[lane].a[0] || all[l].a[1] != all[lane].a[1] ||
        all[l].b[0] != all[lane].b[0] || all[l].b[1] != all[lane].b[1])
      throw std::runtime_error("simt: the lanes of a warp passed different wgmma operands");
  Fiber& f = self();
  const PendingProduct p{
      d, n, desc_a, desc_b, bf16, 16 * (thread / kWarp % 4) + lane / 4, lane % 4, f.product_groups};
  declare_operand_reads(p);  // the tensor cores may read them from the issue on
  if (f.products.empty() && coin())
    run_product(p);
  else
    f.products.push_back(p);  // after any pending one: a thread's products run in issue order
}

void wgmma_commit_group() {
  ++self().product_groups;
}

void wgmma_wait_group(int n) {
  Fiber& f = self();
  if (n < 0) throw std::invalid_argument("simt: wgmma.wait_group with a negative count");
  size_t done = 0;
  for (; done < f.products.size(); ++done) {
    const PendingProduct& p = f.products[done];
    if (p.group == f.product_groups)
      throw std::runtime_error("simt: wgmma.wait_group with products not committed (wgmma.commit_group)");
    if (p.group + static_cast<uint64_t>(n) >= f.product_groups) break;
    run_product(p);
  }
  f.products.erase(f.products.begin(), f.products.begin() + static_cast<std::ptrdiff_t>(done));
}

}  // namespace simt

namespace {
template <typename T>
T shuffle(unsigned mask, T v, int offset, bool down) {
  static_assert(sizeof(T) <= sizeof(uint64_t));
  if (mask != 0xffffffffu) throw std::runtime_error("simt: only full-warp shuffles are emulated");
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  bits = simt::shuffle(bits, offset, down);
  std::memcpy(&v, &bits, sizeof(T));
  return v;
}
}  // namespace

float __shfl_xor_sync(unsigned mask, float v, int lane_mask) {
  return shuffle(mask, v, lane_mask, false);
}
int __shfl_xor_sync(unsigned mask, int v, int lane_mask) {
  return shuffle(mask, v, lane_mask, false);
}
long __shfl_xor_sync(unsigned mask, long v, int lane_mask) {
  return shuffle(mask, v, lane_mask, false);
}
double __shfl_xor_sync(unsigned mask, double v, int lane_mask) {
  return shuffle(mask, v, lane_mask, false);
}
float __shfl_down_sync(unsigned mask, float v, unsigned delta) {
  return shuffle(mask, v, static_cast<int>(delta), true);
}

// SC_CUDA_LAUNCH_CHECK in the emulated kernel files names this (their namespace renamed): nothing to check.
namespace sc::cuda_emulated {
void check_launch(const char*, const char*, int) {}
}  // namespace sc::cuda_emulated
