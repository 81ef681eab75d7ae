#pragma once
// The records log_crash_child writes, derived from their sequence number, so the parent test can check every
// acknowledged record byte for byte after kill -9 without any side channel but the printed acks.

#include <cstdint>
#include <string>

#include "broker/log/event_log.h"

namespace passerelle::log::testing {

inline std::string crash_key(std::int64_t seq) { return "subject-" + std::to_string(seq % 37); }

// Binary on purpose (NUL and high bytes), and of varying length.
inline std::string crash_value(std::int64_t seq) {
  std::string v = "value-" + std::to_string(seq) + '\0';
  for (std::int64_t i = 0; i < seq % 97; ++i) v.push_back(static_cast<char>((seq * 31 + i) & 0xff));
  return v;
}

inline headers crash_headers(std::int64_t seq) { return {header{"seq", std::to_string(seq)}, header{"h", ""}}; }

}  // namespace passerelle::log::testing
