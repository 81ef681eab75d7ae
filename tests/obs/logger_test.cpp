#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <string>
#include <thread>
#include <vector>

#include "broker/core/clock.h"
#include "broker/obs/logger.h"

using namespace passerelle;
using namespace passerelle::obs;

TEST_CASE("text lines are logfmt with ts, level, msg and fields", "[obs]") {
  core::manual_clock clk(1'700'000'000'123);
  std::vector<std::string> lines;
  logger log(
      log_level::info, log_format::text, [&](std::string_view l) { lines.emplace_back(l); }, clk);
  log.info("request done", {{"status", 200}, {"route", "/v1/x"}, {"note", "has space"}, {"ok", true}});
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] ==
        "ts=2023-11-14T22:13:20.123Z level=info msg=\"request done\" status=200 route=/v1/x note=\"has space\" "
        "ok=true\n");
}

TEST_CASE("json lines parse and carry typed fields", "[obs]") {
  core::manual_clock clk(0);
  std::vector<std::string> lines;
  logger log(
      log_level::debug, log_format::json, [&](std::string_view l) { lines.emplace_back(l); }, clk);
  log.warn("odd \"input\"\n", {{"n", 42}, {"ratio", 0.25}, {"who", "a\\b"}, {"msg", "cannot shadow"}});
  REQUIRE(lines.size() == 1);
  REQUIRE(lines[0].back() == '\n');
  rapidjson::Document d;
  d.Parse(lines[0].c_str());
  REQUIRE_FALSE(d.HasParseError());
  CHECK(std::string(d["ts"].GetString()) == "1970-01-01T00:00:00.000Z");
  CHECK(std::string(d["level"].GetString()) == "warn");
  CHECK(std::string(d["msg"].GetString()) == "odd \"input\"\n");
  CHECK(d["n"].GetInt() == 42);
  CHECK(d["ratio"].GetDouble() == 0.25);
  CHECK(std::string(d["who"].GetString()) == "a\\b");
}

TEST_CASE("levels filter and bodies and credentials are never written", "[obs]") {
  std::vector<std::string> lines;
  logger log(log_level::warn, log_format::text, [&](std::string_view l) { lines.emplace_back(l); });
  log.info("dropped");
  log.debug("dropped");
  CHECK(lines.empty());
  log.error("kept", {{"body", "secret payload"}, {"Authorization", "Bearer abc"}});
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("secret payload") == std::string::npos);
  CHECK(lines[0].find("Bearer abc") == std::string::npos);
  CHECK(lines[0].find("body=[redacted]") != std::string::npos);
  log.set_level(log_level::off);
  log.error("silent");
  CHECK(lines.size() == 1);
}

TEST_CASE("lines from many threads never interleave", "[obs]") {
  std::vector<std::string> lines;
  logger log(log_level::info, log_format::text, [&](std::string_view l) { lines.emplace_back(l); });
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&log, t] {
      for (int i = 0; i < 500; ++i) log.info("tick", {{"thread", t}, {"i", i}});
    });
  }
  for (auto& t : ts) t.join();
  REQUIRE(lines.size() == 2000);
  for (const auto& l : lines) {
    CHECK(l.starts_with("ts="));
    CHECK(l.find('\n') == l.size() - 1);
  }
}

TEST_CASE("log level and format parse from config strings", "[obs]") {
  CHECK(parse_log_level("debug").value() == log_level::debug);
  CHECK(parse_log_format("json").value() == log_format::json);
  auto bad = parse_log_level("verbose");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().message.find("verbose") != std::string::npos);
  CHECK_FALSE(parse_log_format("xml").ok());
}
