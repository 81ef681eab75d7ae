#pragma once
// What `passerelle version` prints: Passerelle's version and git revision, and the versions of the libraries
// that decide its wire behaviour (librdkafka, Boost, protobuf).
//
// Thread-safety: pure functions.

#include <string>

namespace passerelle::app {

struct version_info {
  std::string passerelle;    // PROJECT_VERSION, e.g. "0.1.0"
  std::string git_revision;  // `git rev-parse --short HEAD` at configure time, or "unknown"
  std::string librdkafka;    // rd_kafka_version_str() via broker/log/kafka, or a note when not linked
  std::string boost;         // BOOST_LIB_VERSION with dots, e.g. "1.74"
  std::string protobuf;      // GOOGLE_PROTOBUF_VERSION, e.g. "3.21.12"
};

// The versions this binary was built with (librdkafka: the one loaded at run time).
version_info current_version();

// One "name version" per line, starting with "passerelle <version> (git <revision>)".
std::string format_version(const version_info& v);

}  // namespace passerelle::app
