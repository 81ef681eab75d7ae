#include "broker/app/version.h"

#include <google/protobuf/stubs/common.h>
#include <boost/version.hpp>

#include <string>

#include "broker/log/kafka/kafka_log.h"

#ifndef PASSERELLE_VERSION
#error "PASSERELLE_VERSION must be defined by broker/app/CMakeLists.txt"
#endif
#ifndef PASSERELLE_GIT_REVISION
#error "PASSERELLE_GIT_REVISION must be defined by broker/app/CMakeLists.txt"
#endif

namespace passerelle::app {

version_info current_version() {
  version_info v;
  v.passerelle = PASSERELLE_VERSION;
  v.git_revision = PASSERELLE_GIT_REVISION;
  v.librdkafka = passerelle::log::kafka_library_version();
  v.boost = BOOST_LIB_VERSION;  // "1_74"
  for (char& c : v.boost) {
    if (c == '_') c = '.';
  }
  constexpr int pb = GOOGLE_PROTOBUF_VERSION;  // 3021012 = 3.21.12
  v.protobuf =
      std::to_string(pb / 1'000'000) + "." + std::to_string(pb / 1000 % 1000) + "." + std::to_string(pb % 1000);
  return v;
}

std::string format_version(const version_info& v) {
  return "passerelle " + v.passerelle + " (git " + v.git_revision + ")\n" + "librdkafka " + v.librdkafka + "\n" +
         "boost " + v.boost + "\n" + "protobuf " + v.protobuf + "\n";
}

}  // namespace passerelle::app
