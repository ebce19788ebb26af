// Every reader of untrusted files against thousands of corruptions of real files: a bad file must end in a
// clear sc::Error (or, where the damage is harmless, a successful read), never another exception or a crash.
// The mutations are the fuzzer's kinds (bit flips, boundary integers written over length and offset fields,
// truncation, insertion, duplication), drawn from a fixed seed so that a failure names a reproducible case.
// scripts/fuzz.sh runs the same parsers under libFuzzer and the sanitizers; inputs it found are kept in
// tests/fuzz/regressions/<parser>/ and replayed here.
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "fuzz/input_parsers.h"
#include "io/file_util.h"
#include "test_util.h"

namespace sc::test {
namespace {

std::string tests_dir() {
  return fixture_dir() + "/..";
}

std::string mutate(std::string b, std::mt19937_64& rng) {
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % std::max<size_t>(n, 1)); };
  const int kind = static_cast<int>(rng() % 6);
  if (b.empty() || kind == 0) {  // insert random bytes
    const size_t at = pick(b.size() + 1), n = 1 + pick(16);
    std::string ins(n, '\0');
    for (char& c : ins) c = static_cast<char>(rng());
    return b.insert(at, ins);
  }
  const size_t at = pick(b.size());
  switch (kind) {
    case 1:  // flip one bit
      b[at] = static_cast<char>(b[at] ^ (1 << pick(8)));
      break;
    case 2: {  // a boundary byte
      static const unsigned char kBytes[] = {0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe};
      b[at] = static_cast<char>(kBytes[pick(sizeof kBytes)]);
      break;
    }
    case 3: {  // a boundary integer over a length or offset field, little- or big-endian
      static const uint64_t kInts[] = {0,
                                       1,
                                       0x7f,
                                       0xff,
                                       0x7fff,
                                       0xffff,
                                       0x7fffffff,
                                       0x80000000,
                                       0xffffffff,
                                       0x7fffffffffffffff,
                                       0x8000000000000000,
                                       ~0ull,
                                       1ull << 40};
      const uint64_t v = kInts[pick(sizeof kInts / sizeof kInts[0])];
      const size_t width = size_t{1} << (1 + pick(3));  // 2, 4 or 8 bytes
      const bool big = rng() & 1;
      for (size_t i = 0; i < width && at + i < b.size(); ++i)
        b[at + i] = static_cast<char>(v >> (8 * (big ? width - 1 - i : i)));
      break;
    }
    case 4:  // truncate
      b.resize(at);
      break;
    default: {  // duplicate a chunk in place
      const size_t n = 1 + pick(std::min<size_t>(64, b.size() - at));
      b.insert(at, b.substr(at, n));
    }
  }
  return b;
}

struct Seed {
  std::string parser, path;
};

std::vector<Seed> seeds() {
  std::ifstream in(tests_dir() + "/fuzz/seeds.txt");
  std::vector<Seed> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    Seed s;
    fields >> s.parser >> s.path;
    out.push_back(s);
  }
  return out;
}

// Runs `parse` on `bytes`: true when accepted, false for an sc::Error; any other exception fails the test.
bool accepts(const InputParser& parser, const std::string& bytes, const std::string& label) {
  try {
    parser.parse(bytes);
    return true;
  } catch (const Error&) {
    return false;
  } catch (const std::exception& e) {
    ADD_FAILURE() << label << ": " << parser.name << " threw a " << typeid(e).name()
                  << " instead of sc::Error: " << e.what();
    return false;
  }
}

TEST(CorruptInputs, EverySeedIsAValidFileOfItsParser) {
  const auto list = seeds();
  ASSERT_GE(list.size(), input_parsers().size());
  for (const InputParser& p : input_parsers()) {
    int n = 0;
    for (const Seed& s : list)
      if (s.parser == p.name) {
        ++n;
        EXPECT_TRUE(accepts(p, io::read_file(tests_dir() + "/" + s.path), s.path))
            << s.path << " is rejected";
      }
    EXPECT_GT(n, 0) << "no seed for " << p.name;
  }
}

TEST(CorruptInputs, MutatedFilesFailWithClearErrors) {
  constexpr int kMutations = 5000;
  for (const Seed& s : seeds()) {
    const InputParser& parser = input_parser(s.parser);
    const std::string original = io::read_file(tests_dir() + "/" + s.path);
    std::mt19937_64 rng(20261122);
    int rejected = 0;
    for (int i = 0; i < kMutations; ++i) {
      std::string bytes = original;
      const int rounds = 1 + static_cast<int>(rng() % 3);
      for (int r = 0; r < rounds; ++r) bytes = mutate(std::move(bytes), rng);
      rejected += !accepts(parser, bytes, s.path + " mutation " + std::to_string(i));
    }
    // Most corruptions must be caught (a flipped bit in a weight is not one that can be).
    EXPECT_GT(rejected, kMutations / 10) << s.path;
    std::printf("[corrupt inputs] %-15s %-48s %d of %d mutations rejected\n", s.parser.c_str(),
                s.path.c_str(), rejected, kMutations);
  }
}

TEST(CorruptInputs, FuzzerFindingsStayFixed) {
  const std::filesystem::path dir = tests_dir() + "/fuzz/regressions";
  int n = 0;
  for (const InputParser& p : input_parsers()) {
    if (!std::filesystem::is_directory(dir / p.name)) continue;
    for (const auto& f : std::filesystem::directory_iterator(dir / p.name)) {  // each one a corrupt file
      EXPECT_FALSE(accepts(p, io::read_file(f.path().string()), f.path().string()))
          << f.path() << " is accepted";
      ++n;
    }
  }
  EXPECT_GT(n, 0) << "no findings in " << dir;
  std::printf("[corrupt inputs] %d fuzzer findings replayed\n", n);
}

}  // namespace
}  // namespace sc::test
