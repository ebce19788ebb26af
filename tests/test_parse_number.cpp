// nn/parse_number.h: numbers from outside text, whole and in range, or none.
#include <cmath>

#include "nn/parse_number.h"
#include "test_util.h"

namespace sc::test {
namespace {

TEST(ParseNumber, WholeTextInRangeOrNone) {
  EXPECT_EQ(parse_int64("42"), 42);
  EXPECT_EQ(parse_int64(" -7 \n"), -7);  // surrounding spaces, as a text pickle line or a TSV field may have
  EXPECT_EQ(parse_int64("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(parse_int64("-9223372036854775808"), INT64_MIN);
  for (const char* bad :
       {"", " ", "9223372036854775808", "-9223372036854775809", "12abc", "1.5", "0x10", "--1"})
    EXPECT_FALSE(parse_int64(bad)) << "'" << bad << "'";
  EXPECT_FALSE(
      parse_int64(std::string("12\0"
                              "34",
                              5)));  // a NUL does not end the text early

  EXPECT_EQ(parse_double("0.25"), 0.25);
  EXPECT_EQ(parse_double("-1e-3 "), -1e-3);
  EXPECT_TRUE(std::isinf(*parse_double("inf")));
  EXPECT_TRUE(std::isnan(*parse_double("nan")));
  EXPECT_EQ(parse_double("1e-400"), 0.0);  // underflow rounds to zero, as strtod rounds it
  for (const char* bad : {"", "1e400", "-1e400", "0.5x", "x0.5", "1,5"})
    EXPECT_FALSE(parse_double(bad)) << "'" << bad << "'";
}

TEST(ParseNumber, ListsOfNumbers) {
  EXPECT_EQ(parse_double_list("0.5, 0.25,-3"), (std::vector<double>{0.5, 0.25, -3.0}));
  EXPECT_EQ(parse_double_list("0:2:0.5", ':'), (std::vector<double>{0.0, 2.0, 0.5}));
  EXPECT_EQ(parse_double_list("1,2,"),
            (std::vector<double>{1.0, 2.0}));  // a trailing separator ends the list
  EXPECT_EQ(parse_double_list(""), std::vector<double>{});
  EXPECT_EQ(parse_int64_list("16,8"), (std::vector<int64_t>{16, 8}));
  EXPECT_EQ(parse_int64_list("7"), std::vector<int64_t>{7});
  for (const char* bad : {"1,,2", ",1", "1;2", "1,x", "1,1e400"})
    EXPECT_FALSE(parse_double_list(bad)) << "'" << bad << "'";
  for (const char* bad : {"1,2.5", "16,,8", "1,9223372036854775808", " , "})
    EXPECT_FALSE(parse_int64_list(bad)) << "'" << bad << "'";
  // The separator is the caller's: a colon list read with commas is one unreadable item.
  EXPECT_FALSE(parse_double_list("0:2:0.5"));
}

}  // namespace
}  // namespace sc::test
