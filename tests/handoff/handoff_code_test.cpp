#include "broker/handoff/handoff_code.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>

using passerelle::handoff::display_handoff_code;
using passerelle::handoff::generate_handoff_code;
using passerelle::handoff::handoff_check_character;
using passerelle::handoff::handoff_code_length;
using passerelle::handoff::normalize_handoff_code;

namespace {
constexpr std::string_view alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
}

TEST_CASE("generated codes are 10 canonical characters that validate, and differ", "[handoff]") {
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    auto code = generate_handoff_code();
    REQUIRE(code);
    REQUIRE(code->size() == handoff_code_length);
    for (const char c : *code) REQUIRE(alphabet.find(c) != std::string_view::npos);
    REQUIRE(normalize_handoff_code(*code) == *code);
    seen.insert(*code);
  }
  // 45 random bits: a collision among 2,000 codes has a probability of about 6e-8.
  CHECK(seen.size() == 2000);
}

TEST_CASE("every character position uses the whole alphabet", "[handoff]") {
  // A generator stuck on a subset of the alphabet (a bias or a bad bit mask) would shrink the code space.
  std::vector<std::set<char>> per_position(handoff_code_length - 1);
  for (int i = 0; i < 3000; ++i) {
    const auto code = generate_handoff_code();
    REQUIRE(code);
    for (std::size_t p = 0; p + 1 < handoff_code_length; ++p) per_position[p].insert((*code)[p]);
  }
  for (const auto& symbols : per_position) CHECK(symbols.size() == alphabet.size());
}

TEST_CASE("typed codes are normalised: separators, case and look-alike letters", "[handoff]") {
  const std::string data = "7KQ2MXD4R";
  const std::string code = data + handoff_check_character(data);
  CHECK(normalize_handoff_code(code) == code);
  CHECK(normalize_handoff_code(display_handoff_code(code)) == code);
  std::string lower = code;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  CHECK(normalize_handoff_code(lower) == code);
  CHECK(normalize_handoff_code(" " + code.substr(0, 5) + " - " + code.substr(5) + " ") == code);

  const std::string with_zero_one = "10Q2MXD4R";
  const std::string canonical = with_zero_one + handoff_check_character(with_zero_one);
  std::string misread = canonical;
  misread[0] = 'l';
  misread[1] = 'O';
  CHECK(normalize_handoff_code(misread) == canonical);
  misread[0] = 'I';
  misread[1] = 'o';
  CHECK(normalize_handoff_code(misread) == canonical);
}

TEST_CASE("malformed codes are refused before any lookup", "[handoff]") {
  const std::string data = "7KQ2MXD4R";
  const std::string code = data + handoff_check_character(data);
  CHECK_FALSE(normalize_handoff_code(""));
  CHECK_FALSE(normalize_handoff_code(code.substr(0, 9)));
  CHECK_FALSE(normalize_handoff_code(code + "0"));
  CHECK_FALSE(normalize_handoff_code(code.substr(0, 9) + "U"));  // U is not a Crockford symbol
  CHECK_FALSE(normalize_handoff_code(code.substr(0, 9) + "*"));
  CHECK_FALSE(normalize_handoff_code(code.substr(0, 4) + "\xc3\xa9" + code.substr(5)));
}

TEST_CASE("the check character catches every single-character typo and neighbour swap", "[handoff]") {
  const std::string data = "7KQ2MXD4R";
  const std::string code = data + handoff_check_character(data);
  int substitutions = 0;
  for (std::size_t p = 0; p < code.size(); ++p) {
    for (const char c : alphabet) {
      if (c == code[p]) continue;
      std::string typo = code;
      typo[p] = c;
      INFO(typo);
      CHECK_FALSE(normalize_handoff_code(typo));
      ++substitutions;
    }
  }
  CHECK(substitutions == 10 * 31);
  int swaps_caught = 0;
  int swaps = 0;
  for (std::size_t p = 0; p + 1 < code.size(); ++p) {
    if (code[p] == code[p + 1]) continue;
    std::string swapped = code;
    std::swap(swapped[p], swapped[p + 1]);
    ++swaps;
    if (!normalize_handoff_code(swapped)) ++swaps_caught;
  }
  // Luhn mod N misses only swaps of two values whose doubled digit sums coincide (0 <-> 31 for N = 32).
  CHECK(swaps_caught == swaps);
}

TEST_CASE("display groups the code in two fives", "[handoff]") {
  CHECK(display_handoff_code("7KQ2MXD4RB") == "7KQ2M-XD4RB");
  CHECK(display_handoff_code("SHORT") == "SHORT");
}
