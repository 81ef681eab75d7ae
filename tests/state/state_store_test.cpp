#include "broker/state/state_store.h"

#include <catch2/catch.hpp>
#include <map>

#include "tests/log/temp_dir.h"

using passerelle::log::testing::temp_dir;
using passerelle::state::mutation;
using passerelle::state::state_store;
using passerelle::state::state_store_options;

namespace {

std::unique_ptr<state_store> open_store(const temp_dir& dir) {
  auto s = state_store::open(state_store_options{dir.str() + "/state"});
  REQUIRE(s);
  return std::move(*s);
}

std::map<std::string, std::string> scan_all(const state_store& s, std::string_view prefix) {
  std::map<std::string, std::string> out;
  auto n = s.scan(prefix, "", 1'000'000, [&](std::string_view k, std::string_view v) {
    out.emplace(k, v);
    return true;
  });
  REQUIRE(n);
  return out;
}

}  // namespace

TEST_CASE("values and the changelog checkpoint move together; re-applied offsets change nothing", "[state]") {
  temp_dir dir;
  auto store = open_store(dir);
  CHECK(*store->checkpoint("cl", 0) == 0);
  REQUIRE(*store->apply("cl", 0, 3, {{"bsk_a", "v1"}, {"bsk_b", "v1"}}));
  CHECK(*store->checkpoint("cl", 0) == 3);
  CHECK(*store->checkpoint("cl", 1) == 0);     // per partition
  CHECK(*store->checkpoint("other", 0) == 0);  // per topic
  CHECK(**store->get("bsk_a") == "v1");

  // The same changelog range seen again (a reader behind the engine's own write): skipped whole.
  CHECK_FALSE(*store->apply("cl", 0, 3, {{"bsk_a", "stale"}}));
  CHECK_FALSE(*store->apply("cl", 0, 2, {{"bsk_a", "stale"}}));
  CHECK(**store->get("bsk_a") == "v1");

  REQUIRE(*store->apply("cl", 0, 5, {{"bsk_a", "v2"}, {"bsk_b", std::nullopt}}));
  CHECK(**store->get("bsk_a") == "v2");
  CHECK_FALSE(*store->get("bsk_b"));
  CHECK(*store->checkpoint("cl", 0) == 5);
}

TEST_CASE("scan walks one prefix in key order, pages with `after`, and never shows checkpoints", "[state]") {
  temp_dir dir;
  auto store = open_store(dir);
  std::vector<mutation> m;
  for (int i = 0; i < 25; ++i) m.push_back({"ref/shopify:s:" + std::to_string(100 + i), "bsk_" + std::to_string(i)});
  m.push_back({"req", "not in the ref/ prefix"});
  m.push_back({"bsk_x", "state"});
  REQUIRE(*store->apply("cl", 7, 1, m));

  std::vector<std::string> keys;
  std::string after;
  for (;;) {
    std::size_t page = 0;
    auto n = store->scan("ref/", after, 10, [&](std::string_view k, std::string_view) {
      keys.emplace_back(k);
      ++page;
      return true;
    });
    REQUIRE(n);
    if (*n == 0) break;
    CHECK(page == *n);
    after = keys.back();
  }
  REQUIRE(keys.size() == 25);
  CHECK(std::is_sorted(keys.begin(), keys.end()));
  CHECK(keys.front() == "ref/shopify:s:100");

  // Early stop.
  std::size_t seen = 0;
  REQUIRE(*store->scan("", "", 100, [&](std::string_view, std::string_view) { return ++seen < 3; }) == 3);
  // The whole user key space holds exactly the user keys: checkpoints live apart.
  CHECK(scan_all(*store, "").size() == 27);
}

TEST_CASE("a closed store reopens with its values and checkpoints", "[state]") {
  temp_dir dir;
  {
    auto store = open_store(dir);
    REQUIRE(*store->apply("cl", 2, 42, {{"bsk_a", std::string("\0binary\xff", 8)}}));
    REQUIRE(store->flush());
  }
  auto store = open_store(dir);
  CHECK(*store->checkpoint("cl", 2) == 42);
  CHECK(**store->get("bsk_a") == std::string("\0binary\xff", 8));
  CHECK(store->approximate_memory_bytes() > 0);
}

TEST_CASE("a store locked by another owner is refused with a clear error", "[state]") {
  temp_dir dir;
  auto first = open_store(dir);
  auto second = state_store::open(state_store_options{dir.str() + "/state"});
  REQUIRE_FALSE(second);
  CHECK(second.err().code == "state_open_failed");
  CHECK(second.err().message.find("lock") != std::string::npos);
}
