#include "broker/state/changelog_restore.h"

#include <catch2/catch.hpp>
#include <future>
#include <map>
#include <random>

#include "broker/core/murmur2.h"
#include "broker/log/embedded/embedded_log.h"
#include "tests/log/temp_dir.h"

using passerelle::log::event_log;
using passerelle::log::testing::temp_dir;
using passerelle::state::mutation;
using passerelle::state::restore_changelog;
using passerelle::state::state_store;
using passerelle::state::state_store_options;

namespace {

constexpr std::int32_t partitions = 4;
const std::string topic = "passerelle.lifecycle.changelog";

std::unique_ptr<event_log> open_log(const temp_dir& dir) {
  passerelle::log::embedded_options o;
  o.data_dir = dir.str();
  o.default_partitions = partitions;
  o.sync = false;  // the test checks content, not durability
  auto log = passerelle::log::open_embedded_log(o);
  REQUIRE(log);
  REQUIRE((*log)->create_topics({{topic, partitions, 1, {}}}));
  return std::move(*log);
}

// Appends key -> value records (empty value = deletion) and waits for all of them.
void write(event_log& log, const std::vector<std::pair<std::string, std::string>>& records) {
  std::vector<std::promise<bool>> done(records.size());
  auto promise = done.begin();
  for (const auto& [key, value] : records) {
    log.produce({topic, key, value, {}, std::nullopt},
                [&p = *promise](const passerelle::result<passerelle::log::produce_ack>& r) {
                  p.set_value(static_cast<bool>(r));
                });
    ++promise;
  }
  for (auto& p : done) REQUIRE(p.get_future().get());
}

std::map<std::string, std::string> contents(const state_store& s) {
  std::map<std::string, std::string> out;
  REQUIRE(s.scan("", "", 10'000'000, [&](std::string_view k, std::string_view v) {
    out.emplace(k, v);
    return true;
  }));
  return out;
}

std::vector<std::int32_t> all_partitions() {
  std::vector<std::int32_t> p(partitions);
  for (std::int32_t i = 0; i < partitions; ++i) p[static_cast<std::size_t>(i)] = i;
  return p;
}

}  // namespace

TEST_CASE("a store restored from the changelog holds each key's last value; a second restore reads only what is new",
          "[state]") {
  temp_dir dir;
  auto log = open_log(dir);
  std::mt19937 rng(20261122);
  std::map<std::string, std::string> expected;
  std::vector<std::pair<std::string, std::string>> records;
  for (int i = 0; i < 20'000; ++i) {
    const std::string key = "bsk_" + std::to_string(rng() % 3000);
    const bool tombstone = rng() % 10 == 0;
    const std::string value = tombstone ? "" : "state-" + std::to_string(i);
    records.emplace_back(key, value);
    if (tombstone) {
      expected.erase(key);
    } else {
      expected[key] = value;
    }
  }
  write(*log, records);

  auto store = state_store::open(state_store_options{dir.str() + "/state"});
  REQUIRE(store);
  auto stats = restore_changelog(*log, **store, topic, all_partitions());
  REQUIRE(stats);
  CHECK(stats->records == records.size());
  CHECK(contents(**store) == expected);

  write(*log, {{"bsk_new", "fresh"}, {"bsk_1", ""}});
  expected["bsk_new"] = "fresh";
  expected.erase("bsk_1");
  stats = restore_changelog(*log, **store, topic, all_partitions());
  REQUIRE(stats);
  CHECK(stats->records == 2);
  CHECK(contents(**store) == expected);

  // Nothing new: nothing read.
  stats = restore_changelog(*log, **store, topic, all_partitions());
  REQUIRE(stats);
  CHECK(stats->records == 0);
}

TEST_CASE("a restore of some partitions leaves the others untouched", "[state]") {
  temp_dir dir;
  auto log = open_log(dir);
  std::vector<std::pair<std::string, std::string>> records;
  for (int i = 0; i < 200; ++i) records.emplace_back("bsk_" + std::to_string(i), "v");
  write(*log, records);
  auto store = state_store::open(state_store_options{dir.str() + "/state"});
  REQUIRE(store);
  REQUIRE(restore_changelog(*log, **store, topic, {1}));
  for (const auto& [key, value] : contents(**store)) {
    CHECK(passerelle::core::kafka_partition_for_key(key, partitions) == 1);
  }
  CHECK(*(*store)->checkpoint(topic, 0) == 0);
  CHECK(*(*store)->checkpoint(topic, 1) > 0);
}

TEST_CASE("a changelog record the decoder cannot read stops the restore: state would be wrong", "[state]") {
  temp_dir dir;
  auto log = open_log(dir);
  write(*log, {{"bsk_a", "good"}, {"bsk_b", "bad"}});
  auto store = state_store::open(state_store_options{dir.str() + "/state"});
  REQUIRE(store);
  auto stats = restore_changelog(*log, **store, topic, all_partitions(),
                                 [](const passerelle::log::record& r) -> passerelle::result<std::vector<mutation>> {
                                   if (r.value == "bad") return passerelle::error::reject("bad_state", "unreadable");
                                   return std::vector<mutation>{{r.key, r.value}};
                                 });
  REQUIRE_FALSE(stats);
  CHECK(stats.err().code == "changelog_corrupt");
  CHECK(stats.err().message.find("unreadable") != std::string::npos);
}
