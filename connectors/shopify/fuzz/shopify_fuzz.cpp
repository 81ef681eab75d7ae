// libFuzzer target: arbitrary bytes as a Shopify webhook body, signed in the harness so that translate() is
// reached, with the topic and shop header derived from the first input byte; some inputs carry a signature header
// made of input bytes instead, to fuzz the signature check itself. Checks that verify() and translate()
// never crash, hang or leak, whatever the body (ASan/UBSan report the rest).
//
// Build: -DPASSERELLE_FUZZ=ON with clang (connectors/shopify/CMakeLists.txt). CI runs it bounded, seeded with the
// fixtures (one selector byte + a fixture body): `CI_STEPS=fuzz .ci/run` (docs/development.md).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/shopify/shopify_connector.h"
#include "connectors/shopify/shopify_signature.h"
#include "passerelle/v1/event.pb.h"

namespace {

namespace sdk = passerelle::connector;
namespace shopify = passerelle::connectors::shopify;

constexpr const char* fuzz_secret = "shpss_fuzz_0123456789abcdef";
constexpr const char* previous_secret = "shpss_fuzz_previous";

const sdk::connector& fuzz_connector() {
  static const std::shared_ptr<const sdk::connector> instance = [] {
    auto account =
        sdk::config_node::make_map({{"secrets", sdk::config_node::make_list({fuzz_secret, previous_secret})}});
    auto section = sdk::config_node::make_map(
        {{"accounts", sdk::config_node::make_map({{"fuzz.myshopify.com", std::move(account)}})}});
    auto created = shopify::make_shopify_factory()->create(section);
    if (!created) std::abort();
    return *created;
  }();
  return *instance;
}

constexpr std::string_view topics[] = {
    "carts/create", "carts/update", "checkouts/create", "checkouts/update", "orders/create", "orders/paid", "",
    "CARTS/UPDATE"};

// Strict UTF-8 check (no overlongs, no surrogates, at most U+10FFFF): error messages end up in proto3 string fields
// of dead letters, which must hold valid UTF-8.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    constexpr std::uint32_t min_for_length[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_for_length[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // Byte 0: bits 0-2 pick the topic, bit 3 the shop header's spelling, bit 4 the secret, bit 5 sends a signature
  // header made of input bytes (the header parser: base64 of any length, any bytes), bit 6 corrupts the MAC.
  const std::uint8_t selector = data[0];
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool arbitrary_mac = (selector & 0x20) != 0;

  std::vector<sdk::http_header> headers;
  headers.push_back({"X-Shopify-Topic", std::string(topics[selector % std::size(topics)])});
  headers.push_back({"X-Shopify-Shop-Domain", (selector & 0x08) != 0 ? " FUZZ.MyShopify.com" : "fuzz.myshopify.com"});
  headers.push_back({"X-Shopify-Webhook-Id", "fuzz-delivery"});
  std::string mac = shopify::shopify_signature((selector & 0x10) != 0 ? previous_secret : fuzz_secret, body);
  if ((selector & 0x40) != 0) mac[mac.size() / 2] = mac[mac.size() / 2] == 'A' ? 'B' : 'A';
  if (arbitrary_mac) mac = body.substr(0, 64);
  headers.push_back({"X-Shopify-Hmac-Sha256", std::move(mac)});

  sdk::inbound_request request;
  request.method = "POST";
  request.target = "/v1/webhooks/shopify";
  request.headers = &headers;
  request.body = body;
  request.received_at_ms = 1'795'190'000'000;

  const auto& c = fuzz_connector();
  const auto delivery = c.verify(request);
  if (!delivery) {
    if ((selector & 0x60) == 0) std::abort();  // a correctly signed request must verify
    if (delivery.err().kind != passerelle::error_kind::unauthorized) std::abort();
    return 0;
  }
  if ((selector & 0x60) != 0) std::abort();  // a corrupted or made-up MAC must never verify
  const auto events = c.translate(request, *delivery);
  if (!events) {
    if (events.err().kind != passerelle::error_kind::reject || !valid_utf8(events.err().message)) std::abort();
    return 0;
  }
  for (const auto& e : *events) {
    // Every emitted event names its origin, and survives a serialise/parse round trip (proto3 strings must be
    // valid UTF-8, or consumers fail to parse the record).
    if (e.references_size() == 0 || e.source().account() != "fuzz.myshopify.com") std::abort();
    passerelle::v1::Event back;
    if (!back.ParseFromString(e.SerializeAsString())) std::abort();
  }
  return 0;
}
