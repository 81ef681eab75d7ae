// libFuzzer target: arbitrary bytes through the generic connector's verify() and translate().
//
// The first input byte shifts the signature timestamp and picks the header variant; the rest is the body, which
// the harness signs with the configured secret so translate() (protobuf's JSON parser and the validation) runs
// on every input. Every 16th input carries a signature header derived from the input itself instead, to fuzz the
// header parser. Build: -DPASSERELLE_FUZZ=ON with clang. CI runs it bounded, seeded with the fixtures (one
// selector byte + a fixture body): `CI_STEPS=fuzz .ci/run` (docs/development.md).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "connectors/generic/generic_connector.h"
#include "passerelle/v1/event.pb.h"

namespace {

namespace sdk = passerelle::connector;
namespace generic = passerelle::connectors::generic;

const std::string secret = "fuzz-secret-0123456789";
constexpr std::int64_t received_at_ms = 1'795'356'000'250;

const sdk::connector& connector() {
  static const auto instance = [] {
    auto section = sdk::config_node::make_map(
        {{"accounts", sdk::config_node::make_map(
                          {{"acme", sdk::config_node::make_map(
                                        {{"secrets", sdk::config_node::make_list({secret})},
                                         {"max_events_per_request", sdk::config_node::make_scalar("50")}})}})}});
    auto created = generic::make_generic_factory()->create(section);
    if (!created) __builtin_trap();
    return *created;
  }();
  return *instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t selector = data[0];
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  // Timestamps from 320 s in the past to 320 s ahead: both sides of the window.
  const std::int64_t t = received_at_ms / 1000 + (static_cast<int>(selector) * 5 - 640) / 2;
  std::vector<sdk::http_header> headers = {
      {"X-Passerelle-Account", "acme"},
      {"X-Passerelle-Delivery", (selector & 1) != 0 ? "d-1" : body.substr(0, 16)},
      {"X-Passerelle-Signature", selector % 16 == 15 ? body.substr(0, 200) : generic::sign(secret, t, body)},
  };
  sdk::inbound_request request;
  request.method = "POST";
  request.headers = &headers;
  request.body = body;
  request.received_at_ms = received_at_ms;
  auto delivery = connector().verify(request);
  if (!delivery) return 0;
  auto events = connector().translate(request, *delivery);
  if (events) {
    for (const auto& e : *events) {
      // What the connector promises the host for every accepted event.
      if (e.source().connector() != "generic" || e.source().account() != "acme" || e.references_size() == 0 ||
          e.subject_kind() == passerelle::v1::SUBJECT_KIND_UNSPECIFIED || !e.event_id().empty() ||
          e.payload_case() == passerelle::v1::Event::PAYLOAD_NOT_SET) {
        __builtin_trap();
      }
    }
  } else if (events.err().message.empty()) {
    __builtin_trap();
  }
  return 0;
}
