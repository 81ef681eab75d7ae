#include "connectors/shopify/shopify_connector.h"

#include "connectors/sdk/json.h"
#include "connectors/shopify/shopify_signature.h"
#include "connectors/shopify/shopify_translate.h"
#include "passerelle/v1/event.pb.h"

namespace passerelle::connectors::shopify {

namespace {

constexpr std::size_t max_topic_chars = 128;
constexpr std::size_t max_delivery_id_chars = 256;

// Unauthenticated header text made safe for messages and metric labels: at most `max` characters, anything but
// printable ASCII replaced by '?', so that a header cannot forge log lines or blow up label cardinality by size.
std::string printable(std::string_view s, std::size_t max) {
  std::string out(s.substr(0, max));
  for (auto& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// "application/json", "application/json; charset=utf-8", "application/vnd.x+json"; case-insensitive.
bool is_json_media_type(std::string_view content_type) {
  auto media = trim(content_type.substr(0, content_type.find(';')));
  std::string lower(media);
  for (auto& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower == "application/json" || lower.ends_with("+json");
}

error unauthorized(std::string code, std::string message) {
  return error{error_kind::unauthorized, std::move(code), std::move(message)};
}

error bad_config(const std::string& path, std::string_view what) {
  return error::reject("bad_config", path + ": " + std::string(what));
}

class shopify_factory final : public sdk::connector_factory {
 public:
  const sdk::connector_metadata& metadata() const noexcept override { return shopify_metadata(); }

  result<std::shared_ptr<const sdk::connector>> create(const sdk::config_node& section) const override {
    if (auto valid = sdk::validate_accounts_section(metadata(), section); !valid) return std::move(valid).err();
    std::map<std::string, account_settings, std::less<>> accounts;
    std::map<std::string, std::string, std::less<>> key_of;  // normalised -> key as written, for the error message
    for (const auto& [key, settings] : section.find("accounts")->map) {
      const std::string base = "accounts." + key;
      account_settings a;
      a.shop = normalize_shop_domain(key);
      if (a.shop.empty()) return bad_config(base, "not a shop domain (expected e.g. example.myshopify.com)");
      if (const auto it = key_of.find(a.shop); it != key_of.end()) {
        return bad_config(base, "same shop as accounts." + it->second + " (shop domains ignore case)");
      }
      key_of.emplace(a.shop, key);
      for (const auto& s : settings.find("secrets")->list) a.secrets.push_back(s.scalar);
      a.access_token = settings.get_string("access_token").value_or("");
      a.api_base_url = settings.get_string("api_base_url").value_or("https://" + a.shop + "/admin/api");
      while (!a.api_base_url.empty() && a.api_base_url.back() == '/') a.api_base_url.pop_back();
      if (auto currency = settings.get_string("currency")) {
        if (!sdk::currency_exponent(*currency)) {
          return bad_config(base + ".currency", "expected an ISO 4217 code in upper case, e.g. EUR");
        }
        a.currency = *currency;
      }
      accounts.emplace(a.shop, std::move(a));
    }
    return std::shared_ptr<const sdk::connector>(std::make_shared<shopify_connector>(std::move(accounts)));
  }
};

}  // namespace

std::string normalize_shop_domain(std::string_view raw) {
  const auto s = trim(raw);
  if (s.empty() || s.size() > 253) return {};
  std::string out;
  out.reserve(s.size());
  bool has_dot = false;
  char previous = '.';  // a label may not start with '.' or '-'
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (c == '.') {
      if (previous == '.' || previous == '-') return {};
      has_dot = true;
    } else if (c == '-') {
      if (previous == '.') return {};
    } else if (!alnum) {
      return {};
    }
    out.push_back(c);
    previous = c;
  }
  if (!has_dot || previous == '.' || previous == '-') return {};
  return out;
}

std::string normalize_token(std::string_view raw) {
  auto s = trim(raw);
  constexpr std::string_view gid_prefix = "gid://shopify/Cart/";
  if (s.starts_with(gid_prefix)) s.remove_prefix(gid_prefix.size());
  if (const auto q = s.find('?'); q != std::string_view::npos) s = s.substr(0, q);
  return std::string(trim(s));
}

shopify_connector::shopify_connector(std::map<std::string, account_settings, std::less<>> accounts)
    : accounts_(std::move(accounts)) {}

const account_settings* shopify_connector::find_account(std::string_view shop) const {
  const auto it = accounts_.find(shop);
  return it == accounts_.end() ? nullptr : &it->second;
}

result<sdk::verified_delivery> shopify_connector::verify(const sdk::inbound_request& request) const {
  const auto raw_shop = request.header("X-Shopify-Shop-Domain");
  if (trim(raw_shop).empty()) return unauthorized("unknown_account", "X-Shopify-Shop-Domain header missing or empty");
  const auto shop = normalize_shop_domain(raw_shop);
  const auto* account = shop.empty() ? nullptr : find_account(shop);
  if (account == nullptr) {
    // The header is unauthenticated input: never echo it in full.
    return unauthorized("unknown_account", "shop \"" + printable(trim(raw_shop), 64) + "\" is not configured");
  }
  if (auto checked = check_shopify_signature(request.header("X-Shopify-Hmac-Sha256"), request.body, account->secrets);
      !checked) {
    return std::move(checked).err();
  }
  sdk::verified_delivery delivery;
  delivery.account = account->shop;
  // X-Shopify-Webhook-Id is the same on every retry of one delivery: the dedup key. X-Shopify-Event-Id (same
  // event, every subscription) stands in for it only if a proxy dropped it.
  auto id = trim(request.header("X-Shopify-Webhook-Id"));
  if (id.empty()) id = trim(request.header("X-Shopify-Event-Id"));
  // Shopify's ids are UUIDs. Bounding and ASCII-fying a forged header keeps the dedup key small and valid UTF-8 for
  // Source.delivery_id; both are deterministic, so a retry still maps to the same key.
  delivery.delivery_id = printable(id, max_delivery_id_chars);
  delivery.topic = printable(trim(request.header("X-Shopify-Topic")), max_topic_chars);
  return delivery;
}

result<std::vector<v1::Event>> shopify_connector::translate(const sdk::inbound_request& request,
                                                            const sdk::verified_delivery& delivery) const {
  const auto* account = find_account(delivery.account);
  if (account == nullptr) {
    return error::reject("unknown_account", "shop \"" + delivery.account + "\" is not configured (reloaded?)");
  }
  // Subscriptions created through the REST Admin API may ask for XML: say so plainly instead of "invalid JSON".
  // No Content-Type at all is tolerated (the JSON parser decides).
  if (const auto content_type = request.header("Content-Type");
      is_translated_topic(delivery.topic) && !trim(content_type).empty() && !is_json_media_type(content_type)) {
    return error::reject("unsupported_content_type", "Content-Type \"" + printable(trim(content_type), 64) +
                                                         "\": only JSON webhooks are supported (subscribe with "
                                                         "format json)");
  }
  const translate_context context{account->shop, account->currency};
  return translate_payload(delivery.topic, request.body, context);
}

const sdk::connector_metadata& shopify_metadata() {
  static const sdk::connector_metadata metadata = [] {
    sdk::connector_metadata m;
    m.name = std::string(connector_name);
    m.display_name = "Shopify";
    m.description = "Shopify webhooks: carts/create|update snapshots, checkouts/create|update customers, orders/create";
    m.status = sdk::maturity::beta;
    m.security_posture =
        "X-Shopify-Hmac-Sha256: base64 HMAC-SHA256 of the raw body under the app's client secret, compared in "
        "constant time with every configured secret";
    m.account_key = "X-Shopify-Shop-Domain header, lower-cased (e.g. example.myshopify.com)";
    m.account_fields = {
        {"secrets", sdk::field_type::secret_list, true,
         "app client secrets that sign webhooks, current first; keep the previous one while rotating"},
        {"access_token", sdk::field_type::secret, false, "Admin API access token, for call-backs to the shop"},
        {"api_base_url", sdk::field_type::url, false, "Admin API base URL (default https://{shop}/admin/api)"},
        {"currency", sdk::field_type::string, false,
         "ISO 4217 currency of amounts that Shopify sends without *_set money bags (older API versions)"},
    };
    return m;
  }();
  return metadata;
}

std::unique_ptr<sdk::connector_factory> make_shopify_factory() { return std::make_unique<shopify_factory>(); }

}  // namespace passerelle::connectors::shopify
