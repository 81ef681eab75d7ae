// libFuzzer target: arbitrary bytes through the WooCommerce connector's verify() and translate().
//
// The first input byte picks the X-WC-Webhook-Topic (so every translate path is reached), the rest is the body.
// The harness signs the body with the configured secret, so translate() runs on every input; every 16th input
// is left unsigned (or carries a garbled signature) to exercise the ping and signature paths too.
// Build: -DPASSERELLE_FUZZ=ON with clang. CI runs it bounded, seeded with the fixtures (one selector byte + a
// fixture body): `CI_STEPS=fuzz .ci/run` (docs/development.md).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "connectors/sdk/crypto.h"
#include "connectors/woocommerce/woocommerce_connector.h"
#include "passerelle/v1/event.pb.h"

namespace {

namespace sdk = passerelle::connector;

const std::string secret = "fuzz-secret";

const sdk::connector& connector() {
  static const auto instance = [] {
    auto section = sdk::config_node::make_map(
        {{"accounts", sdk::config_node::make_map(
                          {{"shop.example.fr",
                            sdk::config_node::make_map(
                                {{"secrets", sdk::config_node::make_list({secret, "fuzz-secret-previous"})}})}})}});
    auto created = passerelle::connectors::woocommerce::make_woocommerce_factory()->create(section);
    if (!created) __builtin_trap();
    return *created;
  }();
  return *instance;
}

constexpr const char* topics[] = {"order.created",
                                  "order.updated",
                                  "order.restored",
                                  "order.deleted",
                                  "passerelle.cart.updated",
                                  "passerelle.cart.emptied",
                                  "passerelle.wishlist.updated",
                                  "passerelle.wishlist.deleted",
                                  "passerelle.quote.requested",
                                  "passerelle.demo.requested",
                                  "passerelle.unknown",
                                  "product.updated",
                                  ""};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t selector = data[0];
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<sdk::http_header> headers = {
      {"X-WC-Webhook-Source", (selector & 0x80) != 0 ? "https://SHOP.example.fr:443/" : "https://shop.example.fr/"},
      {"X-WC-Webhook-Topic", topics[selector % (sizeof(topics) / sizeof(topics[0]))]},
      {"X-WC-Webhook-Delivery-ID", body.substr(0, 40)},
  };
  if (selector % 16 == 15) {
    headers = {{"Content-Type", "application/x-www-form-urlencoded"}};  // unsigned: only a ping may pass
  } else if (selector % 16 == 14) {
    headers.push_back({"X-WC-Webhook-Signature", body.substr(0, 44)});
  } else {
    headers.push_back({"X-WC-Webhook-Signature", sdk::base64_encode(sdk::hmac_sha256(secret, body))});
  }
  sdk::inbound_request request;
  request.method = "POST";
  request.headers = &headers;
  request.body = body;
  request.received_at_ms = 1'795'356'000'000;
  auto delivery = connector().verify(request);
  if (!delivery || delivery->ping) return 0;
  auto events = connector().translate(request, *delivery);
  if (events) {
    for (const auto& e : *events) {
      // Every emitted event names its origin and carries a payload.
      if (e.references_size() == 0 || e.payload_case() == passerelle::v1::Event::PAYLOAD_NOT_SET) __builtin_trap();
    }
  } else if (events.err().message.empty()) {
    __builtin_trap();  // a refusal always says why
  }
  return 0;
}
