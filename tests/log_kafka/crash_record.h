#pragma once
// The records of the crash-durability test, shared by the test and its child producer
// (kafka_crash_producer): record i has key "crash-<i>" and a value the reader can recompute exactly.

#include <cstdint>
#include <string>

namespace passerelle::log::kafka_test {

inline std::string crash_key(std::int64_t i) { return "crash-" + std::to_string(i); }

// Varying length and every byte value, so truncation or corruption cannot go unnoticed.
inline std::string crash_value(std::int64_t i) {
  std::string v = "value-" + std::to_string(i) + "|";
  const auto len = static_cast<std::size_t>(32 + (i * 37) % 480);
  for (std::size_t j = 0; j < len; ++j)
    v.push_back(static_cast<char>((static_cast<std::size_t>(i) * 131 + j * 7) & 0xff));
  return v;
}

}  // namespace passerelle::log::kafka_test
