#include "connectors/woocommerce/woocommerce_connector.h"

#include <google/protobuf/timestamp.pb.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "connectors/sdk/crypto.h"
#include "connectors/sdk/json.h"
#include "passerelle/v1/event.pb.h"

namespace passerelle::connectors::woocommerce {

namespace {

namespace sdk = passerelle::connector;
using rapidjson::Value;

constexpr std::string_view connector_name = "woocommerce";

// Header names (WooCommerce's, reused by the companion plugin).
constexpr std::string_view header_source = "X-WC-Webhook-Source";
constexpr std::string_view header_topic = "X-WC-Webhook-Topic";
constexpr std::string_view header_signature = "X-WC-Webhook-Signature";
constexpr std::string_view header_delivery = "X-WC-Webhook-Delivery-ID";

// Order meta key under which the companion plugin stores its cart key at checkout (README "Companion plugin
// protocol"): the link from an order to the basket the companion reported.
constexpr std::string_view cart_key_meta = "passerelle_cart_key";
// Version of the companion plugin protocol this connector speaks.
constexpr std::int64_t companion_protocol = 1;
constexpr std::size_t max_key_bytes = 128;    // cart keys, wishlist/quote/request ids
constexpr std::size_t max_text_bytes = 8192;  // free text (messages, notes)
constexpr std::size_t max_topic_bytes = 100;

struct account_settings {
  std::vector<std::string> secrets;
  std::string api_base_url;
  // REST API credentials for call-backs (fetching an order); not used by verify()/translate().
  std::string consumer_key;
  std::string consumer_secret;
};

error unauthorized(std::string code, std::string message) {
  return {error_kind::unauthorized, std::move(code), std::move(message)};
}

error reject(std::string code, std::string message) { return error::reject(std::move(code), std::move(message)); }

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// ---- Time ----

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  // Howard Hinnant's algorithm: days since 1970-01-01 in the proleptic Gregorian calendar.
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// "YYYY-MM-DDTHH:MM:SS[.fraction][Z|+HH:MM|-HH:MM]" to Unix milliseconds (fraction truncated to ms). Without a
// zone the time is taken as UTC only when `zone_optional` (WooCommerce's *_gmt fields carry none).
std::optional<std::int64_t> parse_time_ms(std::string_view s, bool zone_optional) {
  const auto digits = [&](std::size_t pos, std::size_t n) -> std::optional<int> {
    if (pos + n > s.size()) return std::nullopt;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  const auto at = [&](std::size_t pos, char c) { return pos < s.size() && s[pos] == c; };
  const auto year = digits(0, 4);
  const auto month = digits(5, 2);
  const auto day = digits(8, 2);
  const auto hour = digits(11, 2);
  const auto minute = digits(14, 2);
  const auto second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || !at(4, '-') || !at(7, '-') ||
      !(at(10, 'T') || at(10, 't') || at(10, ' ')) || !at(13, ':') || !at(16, ':')) {
    return std::nullopt;
  }
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  std::int64_t millis = 0;
  if (at(pos, '.')) {
    ++pos;
    std::size_t n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 3) millis = millis * 10 + (s[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0 || n > 9) return std::nullopt;
    for (; n < 3; ++n) millis *= 10;
  }
  std::int64_t offset_minutes = 0;
  if (pos == s.size()) {
    if (!zone_optional) return std::nullopt;
  } else if (at(pos, 'Z') || at(pos, 'z')) {
    ++pos;
  } else if (at(pos, '+') || at(pos, '-')) {
    const int sign = s[pos] == '-' ? -1 : 1;
    const auto oh = digits(pos + 1, 2);
    const auto om = digits(pos + 4, 2);
    if (!oh || !om || !at(pos + 3, ':') || *oh > 23 || *om > 59) return std::nullopt;
    offset_minutes = std::int64_t{sign} * (std::int64_t{*oh} * 60 + *om);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const std::int64_t days = days_from_civil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day));
  const std::int64_t seconds =
      days * 86400 + std::int64_t{*hour} * 3600 + std::int64_t{*minute} * 60 + *second - offset_minutes * 60;
  return seconds * 1000 + millis;
}

void set_timestamp(google::protobuf::Timestamp& ts, std::int64_t ms) {
  std::int64_t seconds = ms / 1000;
  std::int64_t rest = ms % 1000;
  if (rest < 0) {
    rest += 1000;
    --seconds;
  }
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<std::int32_t>(rest * 1'000'000));
}

// ---- JSON field access with error messages naming the field path ----

result<std::string> required_text(const Value& object, std::string_view name, const std::string& path) {
  auto text = sdk::member_text(object, name);
  if (!text || text->empty()) {
    return reject("missing_field", path + std::string(name) + ": required (a non-empty string or number)");
  }
  return std::move(*text);
}

std::string optional_text(const Value& object, std::string_view name) {
  auto text = sdk::member_text(object, name);
  return text ? std::move(*text) : std::string();
}

result<std::string> bounded_text(const Value& object, std::string_view name, const std::string& path) {
  auto text = optional_text(object, name);
  if (text.size() > max_text_bytes) {
    return reject("field_too_long",
                  path + std::string(name) + ": longer than " + std::to_string(max_text_bytes) + " bytes");
  }
  return text;
}

result<std::int64_t> required_int(const Value& object, std::string_view name, const std::string& path) {
  auto v = sdk::member_int(object, name);
  if (!v) return reject(v.err().code, path + v.err().message);
  if (!v->has_value()) return reject("missing_field", path + std::string(name) + ": required (an integer)");
  return **v;
}

result<std::int64_t> optional_int(const Value& object, std::string_view name, const std::string& path) {
  auto v = sdk::member_int(object, name);
  if (!v) return reject(v.err().code, path + v.err().message);
  return v->value_or(0);
}

// An id the platform sends as a number or a string: 0 and "" mean "none".
std::string id_text(const Value& object, std::string_view name) {
  auto text = optional_text(object, name);
  return text == "0" ? std::string() : text;
}

result<std::int64_t> required_time(const Value& object, std::string_view name, const std::string& path,
                                   bool zone_optional) {
  auto text = sdk::member_text(object, name);
  if (!text || text->empty()) return reject("missing_field", path + std::string(name) + ": required (a date-time)");
  const auto ms = parse_time_ms(*text, zone_optional);
  if (!ms) {
    return reject("bad_timestamp", path + std::string(name) + ": \"" + *text +
                                       (zone_optional ? "\" is not a date-time YYYY-MM-DDTHH:MM:SS"
                                                      : "\" is not an RFC 3339 date-time with a zone"));
  }
  return *ms;
}

result<std::optional<std::int64_t>> optional_time(const Value& object, std::string_view name, const std::string& path) {
  const auto* v = sdk::member(object, name);
  if (v == nullptr || v->IsNull() || (v->IsString() && v->GetStringLength() == 0)) {
    return std::optional<std::int64_t>{};
  }
  auto ms = required_time(object, name, path, false);
  if (!ms) return std::move(ms).err();
  return std::optional<std::int64_t>{*ms};
}

result<bool> optional_bool(const Value& object, std::string_view name, const std::string& path) {
  const auto* v = sdk::member(object, name);
  if (v == nullptr || v->IsNull()) return false;
  if (!v->IsBool()) return reject("bad_field", path + std::string(name) + ": expected true or false");
  return v->GetBool();
}

result<const Value*> optional_array(const Value& object, std::string_view name, const std::string& path) {
  const auto* v = sdk::member(object, name);
  if (v == nullptr || v->IsNull()) return static_cast<const Value*>(nullptr);
  if (!v->IsArray()) return reject("bad_field", path + std::string(name) + ": expected an array");
  if (v->Size() > max_lines_per_request) {
    return reject("too_many_lines",
                  path + std::string(name) + ": more than " + std::to_string(max_lines_per_request) + " entries");
  }
  return v;
}

result<std::string> currency_of(const Value& object, const std::string& path) {
  auto currency = required_text(object, "currency", path);
  if (!currency) return currency;
  if (!sdk::currency_exponent(*currency)) {
    return reject("bad_currency", path + "currency: \"" + *currency + "\" is not an ISO 4217 code");
  }
  return currency;
}

result<std::int64_t> amount(std::string_view text, const std::string& currency, const std::string& field) {
  auto minor = sdk::decimal_to_minor(text, currency);
  if (!minor) return reject("bad_amount", field + ": " + minor.err().message);
  return *minor;
}

// A money member as minor units; `fallback` when absent or empty.
result<std::int64_t> money_member(const Value& object, std::string_view name, const std::string& currency,
                                  const std::string& path, std::optional<std::int64_t> fallback) {
  const auto text = sdk::member_text(object, name);
  if (!text || text->empty()) {
    if (fallback) return *fallback;
    return reject("missing_field", path + std::string(name) + ": required (a decimal amount such as \"19.99\")");
  }
  return amount(*text, currency, path + std::string(name));
}

v1::Money make_money(std::int64_t minor, const std::string& currency) {
  v1::Money m;
  m.set_amount_minor(minor);
  m.set_currency(currency);
  return m;
}

// Integer division rounded half away from zero: unit prices derived from a line total (exact integers only).
std::int64_t divide_rounded(std::int64_t numerator, std::int64_t denominator) {
  const std::int64_t q = numerator / denominator;
  const std::int64_t r = numerator % denominator;
  if (2 * (r < 0 ? -r : r) >= denominator) return q + (numerator < 0 ? -1 : 1);
  return q;
}

// Keys the companion plugin chooses (cart keys, wishlist and request ids): bounded, printable, no ':' surprises
// beyond what references allow (the native id part may contain anything, but keys must stay readable in URLs).
result<std::string> key_member(const Value& object, std::string_view name, const std::string& path) {
  auto key = required_text(object, name, path);
  if (!key) return key;
  if (key->size() > max_key_bytes || !printable_ascii(*key)) {
    return reject("bad_key", path + std::string(name) + ": expected at most " + std::to_string(max_key_bytes) +
                                 " printable ASCII characters without spaces");
  }
  return key;
}

// ---- Customers ----

bool is_e164(std::string_view phone) {
  if (phone.size() < 8 || phone.size() > 16 || phone[0] != '+' || phone[1] < '1' || phone[1] > '9') return false;
  return std::all_of(phone.begin() + 1, phone.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void add_customer_ref(v1::Event& event, v1::CustomerRefType type, std::string value, std::string scope) {
  auto* ref = event.add_customers();
  ref->set_type(type);
  ref->set_value(std::move(value));
  ref->set_scope(std::move(scope));
}

// The companion plugin's `customer` object: {"id": 42, "email": "...", "phone": "+33..."}; null for a guest.
// E-mail and phone are hashed here and never leave translate() in clear.
result<void> companion_customer(const Value& root, const std::string& account, v1::Event& event) {
  const auto* customer = sdk::member(root, "customer");
  if (customer == nullptr || customer->IsNull()) return ok();
  if (!customer->IsObject()) return reject("bad_field", "customer: expected an object or null");
  const std::string path = "customer.";
  auto id = optional_int(*customer, "id", path);
  if (!id) return std::move(id).err();
  if (*id < 0) return reject("bad_field", "customer.id: expected a positive integer, or 0 for a guest");
  if (*id > 0) {
    add_customer_ref(event, v1::CUSTOMER_REF_TYPE_PLATFORM_CUSTOMER_ID, std::to_string(*id),
                     std::string(connector_name) + ":" + account);
  }
  const auto email = optional_text(*customer, "email");
  if (!email.empty()) {
    if (email.find('@') == std::string::npos || email.size() > 320) {
      return reject("bad_email", "customer.email: not an e-mail address");
    }
    add_customer_ref(event, v1::CUSTOMER_REF_TYPE_EMAIL_SHA256, sdk::email_sha256(email), "");
  }
  const auto phone = optional_text(*customer, "phone");
  if (!phone.empty()) {
    if (!is_e164(phone)) return reject("bad_phone", "customer.phone: expected E.164 form (\"+33612345678\")");
    add_customer_ref(event, v1::CUSTOMER_REF_TYPE_PHONE_SHA256, sdk::to_hex(sdk::sha256(phone)), "");
  }
  return ok();
}

// ---- Lines ----

// Free-form line properties from a JSON object of strings (companion `attributes`), bounded.
result<void> string_map(const Value* object, const std::string& path,
                        google::protobuf::Map<std::string, std::string>& out) {
  if (object == nullptr || object->IsNull()) return ok();
  if (!object->IsObject()) return reject("bad_field", path + ": expected an object of strings");
  if (object->MemberCount() > 64) return reject("bad_field", path + ": more than 64 entries");
  for (const auto& m : object->GetObject()) {
    if (!m.value.IsString()) return reject("bad_field", path + "." + m.name.GetString() + ": expected a string");
    out[std::string(m.name.GetString(), m.name.GetStringLength())] =
        std::string(m.value.GetString(), m.value.GetStringLength());
  }
  return ok();
}

// A companion line: {"key", "product_id", "variation_id", "sku", "name", "quantity", "unit_price", "subtotal",
// "total", "image_url", "attributes"}. `priced` is false for wishlist items, whose price is optional.
result<v1::Line> companion_line(const Value& item, const std::string& currency, const std::string& path, bool priced) {
  if (!item.IsObject()) return reject("bad_field", path + ": expected an object");
  v1::Line line;
  auto key = key_member(item, "key", path + ".");
  if (!key) return std::move(key).err();
  line.set_line_id(std::move(*key));
  line.set_product_id(id_text(item, "product_id"));
  line.set_variant_id(id_text(item, "variation_id"));
  line.set_sku(optional_text(item, "sku"));
  auto title = bounded_text(item, "name", path + ".");
  if (!title) return std::move(title).err();
  line.set_title(std::move(*title));
  line.set_image_url(optional_text(item, "image_url"));
  auto quantity = priced ? required_int(item, "quantity", path + ".") : optional_int(item, "quantity", path + ".");
  if (!quantity) return std::move(quantity).err();
  if (!priced && *quantity == 0) *quantity = 1;  // wishlists without quantities wish for one
  if (*quantity <= 0) return reject("bad_quantity", path + ".quantity: expected a positive integer");
  line.set_quantity(*quantity);
  const bool has_price = !optional_text(item, "unit_price").empty();
  if (priced || has_price) {
    auto unit = money_member(item, "unit_price", currency, path + ".", std::nullopt);
    if (!unit) return std::move(unit).err();
    *line.mutable_unit_price() = make_money(*unit, currency);
    if (priced) {
      auto subtotal = money_member(item, "subtotal", currency, path + ".", *unit * *quantity);
      if (!subtotal) return std::move(subtotal).err();
      auto total = money_member(item, "total", currency, path + ".", *subtotal);
      if (!total) return std::move(total).err();
      *line.mutable_line_total() = make_money(*total, currency);
      if (*subtotal != *total) *line.mutable_discount_total() = make_money(*subtotal - *total, currency);
    }
  }
  if (auto r = string_map(sdk::member(item, "attributes"), path + ".attributes", *line.mutable_properties()); !r) {
    return std::move(r).err();
  }
  return line;
}

// A WooCommerce REST order line item. WooCommerce stores line amounts WITHOUT tax whatever the shop displays:
// `subtotal` before coupons, `total` after; `price` is a float (subtotal / quantity) and is not used.
result<v1::Line> order_line(const Value& item, const std::string& currency, const std::string& path) {
  if (!item.IsObject()) return reject("bad_field", path + ": expected an object");
  v1::Line line;
  auto id = required_text(item, "id", path + ".");
  if (!id) return std::move(id).err();
  line.set_line_id(std::move(*id));
  line.set_product_id(id_text(item, "product_id"));
  line.set_variant_id(id_text(item, "variation_id"));
  line.set_sku(optional_text(item, "sku"));
  auto title = bounded_text(item, "name", path + ".");
  if (!title) return std::move(title).err();
  line.set_title(std::move(*title));
  auto quantity = required_int(item, "quantity", path + ".");
  if (!quantity) return std::move(quantity).err();
  if (*quantity <= 0) return reject("bad_quantity", path + ".quantity: expected a positive integer");
  line.set_quantity(*quantity);
  auto subtotal = money_member(item, "subtotal", currency, path + ".", std::nullopt);
  if (!subtotal) return std::move(subtotal).err();
  auto total = money_member(item, "total", currency, path + ".", *subtotal);
  if (!total) return std::move(total).err();
  *line.mutable_unit_price() = make_money(divide_rounded(*subtotal, *quantity), currency);
  *line.mutable_line_total() = make_money(*total, currency);
  if (*subtotal != *total) *line.mutable_discount_total() = make_money(*subtotal - *total, currency);
  if (const auto* image = sdk::member(item, "image"); image != nullptr && image->IsObject()) {
    line.set_image_url(optional_text(*image, "src"));
  }
  // Visible item meta (variation attributes, personalisation) as properties; WooCommerce hides keys with '_'.
  if (const auto* meta = sdk::member(item, "meta_data"); meta != nullptr && meta->IsArray()) {
    for (const auto& m : meta->GetArray()) {
      if (!m.IsObject()) continue;
      const auto meta_key = optional_text(m, "key");
      const auto* value = sdk::member(m, "value");
      if (meta_key.empty() || meta_key[0] == '_' || value == nullptr || !value->IsString()) continue;
      if (line.properties_size() >= 64) break;
      (*line.mutable_properties())[meta_key] = std::string(value->GetString(), value->GetStringLength());
    }
  }
  return line;
}

// ---- The connector ----

class woocommerce_connector final : public sdk::connector {
 public:
  explicit woocommerce_connector(std::map<std::string, account_settings, std::less<>> accounts)
      : accounts_(std::move(accounts)) {}

  std::string_view name() const noexcept override { return connector_name; }

  std::vector<std::string> sensitive_headers() const override { return {std::string(header_signature)}; }

  result<sdk::verified_delivery> verify(const sdk::inbound_request& request) const override {
    // WooCommerce's creation ping is the only unsigned request accepted, and only in its exact shape.
    if (!request.has_header(header_signature) && is_ping(request)) {
      sdk::verified_delivery ping;
      ping.ping = true;
      ping.topic = "ping";
      const auto account = normalise_account(request.path_account);
      if (accounts_.find(account) != accounts_.end()) ping.account = account;
      return ping;
    }
    const auto source = request.header(header_source);
    if (source.empty()) return unauthorized("unknown_account", "missing X-WC-Webhook-Source header");
    const auto account = normalise_account(source);
    const auto it = accounts_.find(account);
    if (it == accounts_.end()) return unauthorized("unknown_account", "no woocommerce account \"" + account + "\"");
    if (!request.path_account.empty() && normalise_account(request.path_account) != account) {
      return unauthorized("unknown_account", "the account in the path does not match X-WC-Webhook-Source");
    }
    const auto signature = request.header(header_signature);
    if (signature.empty()) return unauthorized("missing_signature", "missing X-WC-Webhook-Signature header");
    std::string received;
    if (!sdk::base64_decode(signature, received) || received.size() != 32) {
      return unauthorized("bad_signature", "X-WC-Webhook-Signature is not a base64 HMAC-SHA256");
    }
    // Over the raw bytes, against every configured secret (rotation), without stopping at the first match so
    // that the time does not depend on which secret matched.
    bool matched = false;
    for (const auto& secret : it->second.secrets) {
      matched = sdk::constant_time_equal(sdk::hmac_sha256(secret, request.body), received) || matched;
    }
    if (!matched) return unauthorized("bad_signature", "X-WC-Webhook-Signature does not match any secret");

    sdk::verified_delivery delivery;
    delivery.account = account;
    delivery.delivery_id = delivery_id(request);
    const auto topic = request.header(header_topic);
    delivery.topic = topic.size() <= max_topic_bytes && printable_ascii(topic) ? std::string(topic) : "invalid";
    return delivery;
  }

  result<std::vector<v1::Event>> translate(const sdk::inbound_request& request,
                                           const sdk::verified_delivery& delivery) const override {
    const auto topic = request.header(header_topic);
    if (topic.empty()) return reject("missing_topic", "missing X-WC-Webhook-Topic header");
    const bool order_topic = topic == "order.created" || topic == "order.updated" || topic == "order.restored";
    const bool companion_topic = topic.starts_with("passerelle.");
    // order.deleted carries only {"id": N} and concerns an order, not a basket; product, customer, coupon and
    // action topics are not used by Passerelle: 200 with no event (WooCommerce disables a hook that fails).
    if (!order_topic && !companion_topic) return std::vector<v1::Event>{};

    rapidjson::Document doc;
    if (auto parsed = sdk::parse_json(request.body, doc); !parsed) return std::move(parsed).err();
    if (!doc.IsObject()) return reject("invalid_payload", "body: expected a JSON object");
    const std::string& account = delivery.account;

    if (order_topic) return translate_order(doc, account);
    using handler = result<std::vector<v1::Event>> (woocommerce_connector::*)(const rapidjson::Document&,
                                                                              const std::string&, bool) const;
    static const std::pair<std::string_view, std::pair<handler, bool>> companion_topics[] = {
        {"passerelle.cart.updated", {&woocommerce_connector::translate_cart, false}},
        {"passerelle.cart.emptied", {&woocommerce_connector::translate_cart, true}},
        {"passerelle.wishlist.updated", {&woocommerce_connector::translate_wishlist, false}},
        {"passerelle.wishlist.deleted", {&woocommerce_connector::translate_wishlist, true}},
        {"passerelle.quote.requested", {&woocommerce_connector::translate_quote, false}},
        {"passerelle.demo.requested", {&woocommerce_connector::translate_demo, false}},
    };
    const auto it = std::find_if(std::begin(companion_topics), std::end(companion_topics),
                                 [&](const auto& t) { return t.first == topic; });
    if (it == std::end(companion_topics)) {
      // Our own namespace: an unknown topic means a newer companion plugin; keep it (dead letter) for a replay.
      return reject("unknown_topic", "X-WC-Webhook-Topic \"" + std::string(topic.substr(0, max_topic_bytes)) +
                                         "\" is not a companion plugin topic this version knows");
    }
    auto protocol = required_int(doc, "protocol", "");
    if (!protocol) return std::move(protocol).err();
    if (*protocol != companion_protocol) {
      return reject("unsupported_protocol", "protocol: " + std::to_string(*protocol) + " is not supported (expected " +
                                                std::to_string(companion_protocol) + ")");
    }
    return (this->*(it->second.first))(doc, account, it->second.second);
  }

 private:
  static bool is_ping(const sdk::inbound_request& request) {
    if (request.method != "POST") return false;
    const auto content_type = request.header("Content-Type");
    if (!content_type.empty() && !content_type.starts_with("application/x-www-form-urlencoded")) return false;
    const std::string_view prefix = "webhook_id=";
    const auto body = request.body;
    if (!body.starts_with(prefix) || body.size() == prefix.size() || body.size() > prefix.size() + 20) return false;
    return std::all_of(body.begin() + static_cast<std::ptrdiff_t>(prefix.size()), body.end(),
                       [](char c) { return c >= '0' && c <= '9'; });
  }

  // WooCommerce's delivery id is wp_hash(webhook id . time()): two deliveries of one hook in the same second
  // share it. The digest of the body makes distinct notices distinct while a redelivery of the same bytes keeps
  // its id (so the host still deduplicates it).
  static std::string delivery_id(const sdk::inbound_request& request) {
    const auto digest = sdk::to_hex(sdk::sha256(request.body)).substr(0, 16);
    const auto header = request.header(header_delivery);
    if (header.empty() || header.size() > max_delivery_id_bytes || !printable_ascii(header)) return "body-" + digest;
    return std::string(header) + "-" + digest;
  }

  static std::string reference(const std::string& account, std::string_view native_id) {
    return std::string(connector_name) + ":" + account + ":" + std::string(native_id);
  }

  static v1::Event envelope(const std::string& account, v1::SubjectKind kind, const std::string& native_id,
                            std::int64_t time_ms) {
    v1::Event event;
    event.set_subject_kind(kind);
    set_timestamp(*event.mutable_occurred_at(), time_ms);
    event.set_channel(v1::CHANNEL_WEB);
    event.mutable_source()->set_connector(std::string(connector_name));
    event.mutable_source()->set_account(account);
    event.mutable_source()->set_native_id(native_id);
    event.set_source_version(time_ms);
    event.add_references(reference(account, native_id));
    return event;
  }

  result<std::vector<v1::Event>> translate_order(const rapidjson::Document& order, const std::string& account) const {
    auto id = required_int(order, "id", "");
    if (!id) return std::move(id).err();
    if (*id <= 0) return reject("bad_field", "id: expected a positive integer");
    const std::string order_native = "order:" + std::to_string(*id);
    auto status = required_text(order, "status", "");
    if (!status) return std::move(status).err();
    auto currency = currency_of(order, "");
    if (!currency) return std::move(currency).err();
    // Modification time (GMT, no zone in WooCommerce's REST output); a never-modified order may only have its
    // creation time.
    const char* modified_field =
        optional_text(order, "date_modified_gmt").empty() ? "date_created_gmt" : "date_modified_gmt";
    auto modified = required_time(order, modified_field, "", true);
    if (!modified) return std::move(modified).err();

    std::string cart_key;
    if (const auto* meta = sdk::member(order, "meta_data"); meta != nullptr && meta->IsArray()) {
      for (const auto& m : meta->GetArray()) {
        if (!m.IsObject() || optional_text(m, "key") != cart_key_meta) continue;
        auto key = key_member(m, "value", "meta_data[" + std::string(cart_key_meta) + "].");
        if (!key) return std::move(key).err();
        cart_key = std::move(*key);
      }
    }

    // Statuses before payment: the order exists but the basket is not converted yet. After conversion,
    // cancellations and refunds concern the order, which Passerelle does not track.
    const bool unpaid = *status == "pending" || *status == "failed" || *status == "checkout-draft";
    const bool closed = *status == "cancelled" || *status == "refunded" || *status == "trash";
    if (closed || (unpaid && cart_key.empty())) return std::vector<v1::Event>{};

    const std::string origin = cart_key.empty() ? order_native : "cart:" + cart_key;
    v1::Event event = envelope(account, v1::SUBJECT_KIND_BASKET, order_native, *modified);
    event.set_references(0, reference(account, origin));
    if (!cart_key.empty()) event.add_references(reference(account, order_native));
    const auto created_via = optional_text(order, "created_via");
    if (created_via != "checkout" && created_via != "store-api") event.set_channel(v1::CHANNEL_UNSPECIFIED);

    auto customer_id = optional_int(order, "customer_id", "");
    if (!customer_id) return std::move(customer_id).err();
    if (*customer_id > 0) {
      add_customer_ref(event, v1::CUSTOMER_REF_TYPE_PLATFORM_CUSTOMER_ID, std::to_string(*customer_id),
                       std::string(connector_name) + ":" + account);
    }
    if (const auto* billing = sdk::member(order, "billing"); billing != nullptr && billing->IsObject()) {
      const auto email = optional_text(*billing, "email");
      if (email.find('@') != std::string::npos) {
        add_customer_ref(event, v1::CUSTOMER_REF_TYPE_EMAIL_SHA256, sdk::email_sha256(email), "");
      }
    }

    std::vector<v1::Event> events;
    if (unpaid) {
      // Checkout reached but not paid: attach the order to the basket and say who the customer is.
      auto* linked = event.mutable_subject_linked();
      linked->set_reference(reference(account, order_native));
      linked->set_reason("order_created");
      events.push_back(event);
      if (event.customers_size() > 0) {
        v1::Event attached = event;
        *attached.mutable_basket_customer_attached()->mutable_customers() = event.customers();
        events.push_back(std::move(attached));
      }
      return events;
    }

    auto* converted = event.mutable_basket_converted();
    converted->set_kind(v1::CONVERSION_KIND_ORDER);
    converted->set_order_reference(reference(account, order_native));
    converted->set_order_number(optional_text(order, "number"));
    auto items = optional_array(order, "line_items", "");
    if (!items) return std::move(items).err();
    std::int64_t lines_total = 0;
    if (*items != nullptr) {
      for (rapidjson::SizeType i = 0; i < (*items)->Size(); ++i) {
        auto line = order_line((**items)[i], *currency, "line_items[" + std::to_string(i) + "]");
        if (!line) return std::move(line).err();
        lines_total += line->line_total().amount_minor();
        *converted->add_lines() = std::move(*line);
      }
    }
    auto* totals = converted->mutable_totals();
    *totals->mutable_subtotal() = make_money(lines_total, *currency);
    auto discount = money_member(order, "discount_total", *currency, "", 0);
    if (!discount) return std::move(discount).err();
    *totals->mutable_discount_total() = make_money(*discount, *currency);
    auto tax = money_member(order, "total_tax", *currency, "", 0);
    if (!tax) return std::move(tax).err();
    *totals->mutable_tax_total() = make_money(*tax, *currency);
    auto shipping = money_member(order, "shipping_total", *currency, "", 0);
    if (!shipping) return std::move(shipping).err();
    *totals->mutable_shipping_total() = make_money(*shipping, *currency);
    auto total = money_member(order, "total", *currency, "", std::nullopt);
    if (!total) return std::move(total).err();
    *totals->mutable_total() = make_money(*total, *currency);
    totals->set_taxes_included(false);  // REST line amounts are always tax-exclusive (see order_line)
    events.push_back(std::move(event));
    return events;
  }

  result<std::vector<v1::Event>> translate_cart(const rapidjson::Document& doc, const std::string& account,
                                                bool emptied) const {
    auto key = key_member(doc, "cart_key", "");
    if (!key) return std::move(key).err();
    auto updated = required_time(doc, "updated_at", "", false);
    if (!updated) return std::move(updated).err();
    auto currency = currency_of(doc, "");
    if (!currency) return std::move(currency).err();
    v1::Event event = envelope(account, v1::SUBJECT_KIND_BASKET, "cart:" + *key, *updated);
    if (auto r = companion_customer(doc, account, event); !r) return std::move(r).err();

    auto* snapshot = event.mutable_basket_snapshot();
    snapshot->set_currency(*currency);
    auto* totals = snapshot->mutable_totals();
    std::vector<v1::Event> events;
    if (emptied) {
      *totals->mutable_subtotal() = make_money(0, *currency);
      *totals->mutable_total() = make_money(0, *currency);
      v1::Event abandoned = event;
      auto* payload = abandoned.mutable_basket_abandoned();
      set_timestamp(*payload->mutable_last_activity_at(), *updated);
      payload->set_reason("cleared");
      events.push_back(std::move(event));
      events.push_back(std::move(abandoned));
      return events;
    }

    auto lines = optional_array(doc, "lines", "");
    if (!lines) return std::move(lines).err();
    if (*lines == nullptr) return reject("missing_field", "lines: required (an array, empty for an empty cart)");
    std::int64_t lines_total = 0;
    for (rapidjson::SizeType i = 0; i < (*lines)->Size(); ++i) {
      auto line = companion_line((**lines)[i], *currency, "lines[" + std::to_string(i) + "]", true);
      if (!line) return std::move(line).err();
      lines_total += line->line_total().amount_minor();
      *snapshot->add_lines() = std::move(*line);
    }
    auto coupons = optional_array(doc, "coupons", "");
    if (!coupons) return std::move(coupons).err();
    if (*coupons != nullptr) {
      for (rapidjson::SizeType i = 0; i < (*coupons)->Size(); ++i) {
        const auto& c = (**coupons)[i];
        const std::string path = "coupons[" + std::to_string(i) + "].";
        if (!c.IsObject()) return reject("bad_field", path.substr(0, path.size() - 1) + ": expected an object");
        auto code = required_text(c, "code", path);
        if (!code) return std::move(code).err();
        auto discount = money_member(c, "discount", *currency, path, 0);
        if (!discount) return std::move(discount).err();
        auto* promotion = snapshot->add_promotions();
        promotion->set_promotion_id(*code);
        promotion->set_code(*code);
        *promotion->mutable_amount() = make_money(*discount, *currency);
      }
    }
    const auto* t = sdk::member(doc, "totals");
    if (t == nullptr || !t->IsObject()) return reject("missing_field", "totals: required (an object)");
    auto taxes_included = optional_bool(doc, "prices_include_tax", "");
    if (!taxes_included) return std::move(taxes_included).err();
    totals->set_taxes_included(*taxes_included);
    struct field {
      std::string_view name;
      v1::Money* target;
      std::optional<std::int64_t> fallback;
    };
    for (const auto& f : {field{"subtotal", totals->mutable_subtotal(), lines_total},
                          field{"discount_total", totals->mutable_discount_total(), 0},
                          field{"tax_total", totals->mutable_tax_total(), 0},
                          field{"shipping_total", totals->mutable_shipping_total(), 0},
                          field{"total", totals->mutable_total(), std::nullopt}}) {
      auto value = money_member(*t, f.name, *currency, "totals.", f.fallback);
      if (!value) return std::move(value).err();
      *f.target = make_money(*value, *currency);
    }
    snapshot->set_checkout_url(optional_text(doc, "checkout_url"));
    auto note = bounded_text(doc, "note", "");
    if (!note) return std::move(note).err();
    snapshot->set_note(std::move(*note));
    events.push_back(std::move(event));
    return events;
  }

  result<std::vector<v1::Event>> translate_wishlist(const rapidjson::Document& doc, const std::string& account,
                                                    bool deleted) const {
    auto id = key_member(doc, "wishlist_id", "");
    if (!id) return std::move(id).err();
    auto updated = required_time(doc, "updated_at", "", false);
    if (!updated) return std::move(updated).err();
    v1::Event event = envelope(account, v1::SUBJECT_KIND_WISHLIST, "wishlist:" + *id, *updated);
    if (auto r = companion_customer(doc, account, event); !r) return std::move(r).err();
    if (deleted) {
      auto reason = bounded_text(doc, "reason", "");
      if (!reason) return std::move(reason).err();
      event.mutable_wishlist_deleted()->set_reason(reason->empty() ? "customer" : *reason);
      return std::vector<v1::Event>{std::move(event)};
    }
    auto* snapshot = event.mutable_wishlist_snapshot();
    auto name = bounded_text(doc, "name", "");
    if (!name) return std::move(name).err();
    snapshot->set_name(std::move(*name));
    auto is_public = optional_bool(doc, "is_public", "");
    if (!is_public) return std::move(is_public).err();
    snapshot->set_is_public(*is_public);
    auto items = optional_array(doc, "items", "");
    if (!items) return std::move(items).err();
    if (*items == nullptr) return reject("missing_field", "items: required (an array, empty for an empty wishlist)");
    std::string currency;
    if ((*items)->Size() > 0) {
      // Prices are optional on wishlist items; when one is given the currency must be too.
      currency = optional_text(doc, "currency");
      if (!currency.empty() && !sdk::currency_exponent(currency)) {
        return reject("bad_currency", "currency: \"" + currency + "\" is not an ISO 4217 code");
      }
    }
    for (rapidjson::SizeType i = 0; i < (*items)->Size(); ++i) {
      const std::string path = "items[" + std::to_string(i) + "]";
      const auto& item = (**items)[i];
      if (currency.empty() && item.IsObject() && !optional_text(item, "unit_price").empty()) {
        return reject("missing_field", "currency: required when " + path + ".unit_price is given");
      }
      auto line = companion_line(item, currency, path, false);
      if (!line) return std::move(line).err();
      *snapshot->add_items() = std::move(*line);
    }
    return std::vector<v1::Event>{std::move(event)};
  }

  result<std::vector<v1::Event>> translate_quote(const rapidjson::Document& doc, const std::string& account,
                                                 bool /*unused*/) const {
    auto id = key_member(doc, "quote_id", "");
    if (!id) return std::move(id).err();
    auto requested = required_time(doc, "requested_at", "", false);
    if (!requested) return std::move(requested).err();
    auto currency = currency_of(doc, "");
    if (!currency) return std::move(currency).err();
    v1::Event event = envelope(account, v1::SUBJECT_KIND_QUOTE, "quote:" + *id, *requested);
    if (auto r = companion_customer(doc, account, event); !r) return std::move(r).err();
    auto* payload = event.mutable_quote_requested();
    payload->set_currency(*currency);
    auto message = bounded_text(doc, "message", "");
    if (!message) return std::move(message).err();
    payload->set_message(std::move(*message));
    auto company = bounded_text(doc, "company", "");
    if (!company) return std::move(company).err();
    payload->set_company(std::move(*company));
    auto lines = optional_array(doc, "lines", "");
    if (!lines) return std::move(lines).err();
    if (*lines == nullptr || (*lines)->Size() == 0)
      return reject("missing_field", "lines: required (a non-empty array)");
    for (rapidjson::SizeType i = 0; i < (*lines)->Size(); ++i) {
      // Quote requests carry list prices when the form knows them; the merchant sets the quoted price later.
      auto line = companion_line((**lines)[i], *currency, "lines[" + std::to_string(i) + "]", false);
      if (!line) return std::move(line).err();
      *payload->add_lines() = std::move(*line);
    }
    return std::vector<v1::Event>{std::move(event)};
  }

  result<std::vector<v1::Event>> translate_demo(const rapidjson::Document& doc, const std::string& account,
                                                bool /*unused*/) const {
    auto id = key_member(doc, "request_id", "");
    if (!id) return std::move(id).err();
    auto requested = required_time(doc, "requested_at", "", false);
    if (!requested) return std::move(requested).err();
    v1::Event event = envelope(account, v1::SUBJECT_KIND_DEMO_REQUEST, "demo:" + *id, *requested);
    if (auto r = companion_customer(doc, account, event); !r) return std::move(r).err();
    if (event.customers_size() == 0) {
      return reject("missing_field", "customer: required (an e-mail, a phone or an id to answer the request)");
    }
    auto* payload = event.mutable_demo_requested();
    auto kind = required_text(doc, "kind", "");
    if (!kind) return std::move(kind).err();
    if (*kind == "demo")
      payload->set_kind(v1::DEMO_REQUEST_KIND_DEMO);
    else if (*kind == "information")
      payload->set_kind(v1::DEMO_REQUEST_KIND_INFORMATION);
    else if (*kind == "appointment")
      payload->set_kind(v1::DEMO_REQUEST_KIND_APPOINTMENT);
    else
      return reject("bad_field", "kind: \"" + *kind + "\" is not one of demo, information, appointment");
    auto products = optional_array(doc, "products", "");
    if (!products) return std::move(products).err();
    if (*products != nullptr) {
      for (rapidjson::SizeType i = 0; i < (*products)->Size(); ++i) {
        const auto& p = (**products)[i];
        if (!p.IsObject()) return reject("bad_field", "products[" + std::to_string(i) + "]: expected an object");
        auto* product = payload->add_products();
        product->set_product_id(id_text(p, "product_id"));
        product->set_variant_id(id_text(p, "variation_id"));
        product->set_sku(optional_text(p, "sku"));
        product->set_title(optional_text(p, "name"));
        product->set_url(optional_text(p, "url"));
        if (product->product_id().empty() && product->sku().empty()) {
          return reject("missing_field", "products[" + std::to_string(i) + "]: product_id or sku required");
        }
      }
    }
    auto message = bounded_text(doc, "message", "");
    if (!message) return std::move(message).err();
    payload->set_message(std::move(*message));
    auto preferred = optional_time(doc, "preferred_at", "");
    if (!preferred) return std::move(preferred).err();
    if (preferred->has_value()) set_timestamp(*payload->mutable_preferred_at(), **preferred);
    payload->set_preferred_store_id(optional_text(doc, "preferred_store_id"));
    payload->set_locale(optional_text(doc, "locale"));
    const auto mode = optional_text(doc, "contact_mode");
    static const std::pair<std::string_view, v1::ContactMode> modes[] = {{"in_store", v1::CONTACT_MODE_IN_STORE},
                                                                         {"phone", v1::CONTACT_MODE_PHONE},
                                                                         {"email", v1::CONTACT_MODE_EMAIL},
                                                                         {"video", v1::CONTACT_MODE_VIDEO},
                                                                         {"at_home", v1::CONTACT_MODE_AT_HOME}};
    if (!mode.empty()) {
      const auto it = std::find_if(std::begin(modes), std::end(modes), [&](const auto& m) { return m.first == mode; });
      if (it == std::end(modes)) {
        return reject("bad_field",
                      "contact_mode: \"" + mode + "\" is not one of in_store, phone, email, video, at_home");
      }
      payload->set_contact_mode(it->second);
    }
    return std::vector<v1::Event>{std::move(event)};
  }

  std::map<std::string, account_settings, std::less<>> accounts_;
};

// ---- Factory ----

class woocommerce_factory final : public sdk::connector_factory {
 public:
  woocommerce_factory() {
    metadata_.name = std::string(connector_name);
    metadata_.display_name = "WooCommerce";
    metadata_.description =
        "WooCommerce order webhooks and the Passerelle companion plugin (carts, wishlists, quotes, demo requests)";
    metadata_.status = sdk::maturity::beta;
    metadata_.security_posture =
        "X-WC-Webhook-Signature: base64 HMAC-SHA256 of the raw body with the webhook secret (rotation: several "
        "secrets); "
        "only the unsigned `webhook_id=N` creation ping is accepted without a signature, and emits nothing";
    metadata_.account_key = "host of the X-WC-Webhook-Source header, lowercased (\"shop.example.fr\")";
    metadata_.account_fields = {
        {"secrets", sdk::field_type::secret_list, true,
         "webhook secrets (WooCommerce > Settings > Advanced > Webhooks, and the companion plugin's); current first"},
        {"api_base_url", sdk::field_type::url, false,
         "WooCommerce REST API base, default https://{account}/wp-json/wc/v3"},
        {"consumer_key", sdk::field_type::secret, false, "REST API consumer key (ck_...), for call-backs"},
        {"consumer_secret", sdk::field_type::secret, false, "REST API consumer secret (cs_...), for call-backs"},
    };
  }

  const sdk::connector_metadata& metadata() const noexcept override { return metadata_; }

  result<std::shared_ptr<const sdk::connector>> create(const sdk::config_node& section) const override {
    if (auto r = sdk::validate_accounts_section(metadata_, section); !r) return std::move(r).err();
    std::map<std::string, account_settings, std::less<>> accounts;
    for (const auto& [key, settings] : section.find("accounts")->map) {
      const std::string path = "accounts." + key;
      const auto account = normalise_account(key);
      if (account.empty()) return error::reject("bad_config", path + ": expected a site host such as shop.example.fr");
      if (accounts.count(account) != 0) {
        return error::reject("bad_config",
                             path + ": the same site as another account (\"" + std::string(account) + "\")");
      }
      account_settings s;
      s.secrets = *settings.get_string_list("secrets");
      s.api_base_url = settings.get_string("api_base_url").value_or("https://" + account + "/wp-json/wc/v3");
      s.consumer_key = settings.get_string("consumer_key").value_or("");
      s.consumer_secret = settings.get_string("consumer_secret").value_or("");
      accounts.emplace(account, std::move(s));
    }
    return std::shared_ptr<const sdk::connector>(std::make_shared<woocommerce_connector>(std::move(accounts)));
  }

 private:
  sdk::connector_metadata metadata_;
};

}  // namespace

std::string normalise_account(std::string_view source) {
  std::string_view s = source;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (const auto scheme = s.find("://"); scheme != std::string_view::npos) s.remove_prefix(scheme + 3);
  if (const auto end = s.find_first_of("/?#"); end != std::string_view::npos) s = s.substr(0, end);
  if (const auto at = s.rfind('@'); at != std::string_view::npos) s.remove_prefix(at + 1);
  if (!s.empty() && s.front() == '[') {
    // IPv6 literal: keep the brackets, drop the port.
    const auto close = s.find(']');
    if (close == std::string_view::npos) return {};
    s = s.substr(0, close + 1);
  } else if (const auto colon = s.find(':'); colon != std::string_view::npos) {
    s = s.substr(0, colon);
  }
  while (!s.empty() && s.back() == '.') s.remove_suffix(1);
  std::string host;
  host.reserve(s.size());
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return {};  // hosts are ASCII (IDNs arrive punycoded)
    host.push_back(static_cast<char>(std::tolower(u)));
  }
  return host;
}

std::unique_ptr<passerelle::connector::connector_factory> make_woocommerce_factory() {
  return std::make_unique<woocommerce_factory>();
}

}  // namespace passerelle::connectors::woocommerce
