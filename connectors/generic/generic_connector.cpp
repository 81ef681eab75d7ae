#include "connectors/generic/generic_connector.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <utility>

#include "connectors/sdk/crypto.h"
#include "connectors/sdk/json.h"
#include "passerelle/v1/event.pb.h"

namespace passerelle::connectors::generic {

namespace {

namespace sdk = passerelle::connector;
namespace pb = google::protobuf;

constexpr std::string_view connector_name = "generic";
constexpr std::string_view header_account = "X-Passerelle-Account";
constexpr std::string_view header_delivery = "X-Passerelle-Delivery";
constexpr std::string_view header_signature = "X-Passerelle-Signature";
constexpr std::size_t max_reference_bytes = 512;

struct account_settings {
  std::vector<std::string> secrets;
  std::size_t max_events = default_max_events_per_request;
};

error unauthorized(std::string code, std::string message) {
  return {error_kind::unauthorized, std::move(code), std::move(message)};
}

error reject(std::string code, std::string message) { return error::reject(std::move(code), std::move(message)); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

bool lower_hex(std::string_view s, std::size_t length) {
  return s.size() == length &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// ---- Validation of one decoded event ----

// The subject kind a payload belongs to, from the field-number ranges of Event.payload (event.proto: baskets
// 100+, wishlists 200+, ...); UNSPECIFIED for the payloads any kind may carry (900+).
v1::SubjectKind kind_of_payload(int field_number) {
  switch (field_number / 100) {
    case 1: return v1::SUBJECT_KIND_BASKET;
    case 2: return v1::SUBJECT_KIND_WISHLIST;
    case 3: return v1::SUBJECT_KIND_QUOTE;
    case 4: return v1::SUBJECT_KIND_DEMO_REQUEST;
    case 5: return v1::SUBJECT_KIND_INTEREST;
    case 6: return v1::SUBJECT_KIND_CUSTOMER;
    default: return v1::SUBJECT_KIND_UNSPECIFIED;
  }
}

struct split_reference {
  std::string_view connector;
  std::string_view account;
  std::string_view native_id;
};

// `{connector}:{account}:{native_id}`, split on the first two ':'; nullopt unless all three parts are non-empty.
std::optional<split_reference> split(std::string_view ref) {
  const auto first = ref.find(':');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = ref.find(':', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  split_reference out{ref.substr(0, first), ref.substr(first + 1, second - first - 1), ref.substr(second + 1)};
  if (out.connector.empty() || out.account.empty() || out.native_id.empty()) return std::nullopt;
  return out;
}

bool has_control_characters(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// Every Money anywhere in `message` must have an ISO 4217-shaped currency whenever it carries an amount.
// Amounts are integers by construction (int64 in the schema; the JSON parser refuses fractions).
result<void> check_money(const pb::Message& message, const std::string& path) {
  const auto* descriptor = message.GetDescriptor();
  if (descriptor->full_name() == "passerelle.v1.Money") {
    const auto& money = static_cast<const v1::Money&>(message);
    if (money.currency().empty()) {
      if (money.amount_minor() != 0) return reject("bad_currency", path + ".currency: required with an amount");
      return ok();
    }
    if (!sdk::currency_exponent(money.currency())) {
      return reject("bad_currency", path + ".currency: \"" + money.currency() +
                                        "\" is not an ISO 4217 code (three upper-case letters)");
    }
    return ok();
  }
  const auto* reflection = message.GetReflection();
  std::vector<const pb::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const auto* field : fields) {
    if (field->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE || field->is_map()) continue;
    const std::string field_path = path.empty() ? field->name() : path + "." + field->name();
    if (field->is_repeated()) {
      const int n = reflection->FieldSize(message, field);
      for (int i = 0; i < n; ++i) {
        auto r =
            check_money(reflection->GetRepeatedMessage(message, field, i), field_path + "[" + std::to_string(i) + "]");
        if (!r) return r;
      }
    } else if (auto r = check_money(reflection->GetMessage(message, field), field_path); !r) {
      return r;
    }
  }
  return ok();
}

// Checks one event from `account` and fills in what the connector owns; see README.md "What translate() checks".
result<void> validate(v1::Event& event, const std::string& account, std::int64_t received_at_ms,
                      const std::string& where) {
  const auto* payload_field =
      event.GetReflection()->GetOneofFieldDescriptor(event, v1::Event::descriptor()->FindOneofByName("payload"));
  if (payload_field == nullptr) return reject("missing_payload", where + "no payload (basket_snapshot, ...) is set");
  if (event.has_transition_rejected()) {
    return reject("engine_only_payload", where + "transition_rejected is emitted by the lifecycle engine only");
  }
  const auto payload_kind = kind_of_payload(payload_field->number());
  if (!v1::SubjectKind_IsValid(event.subject_kind())) {
    return reject("bad_subject_kind", where + "subject_kind: unknown value " + std::to_string(event.subject_kind()));
  }
  if (event.subject_kind() == v1::SUBJECT_KIND_UNSPECIFIED) {
    if (payload_kind == v1::SUBJECT_KIND_UNSPECIFIED) {
      return reject("missing_subject_kind", where + "subject_kind: required with " + payload_field->name());
    }
    event.set_subject_kind(payload_kind);
  } else if (payload_kind != v1::SUBJECT_KIND_UNSPECIFIED && event.subject_kind() != payload_kind) {
    return reject("subject_kind_mismatch", where + "subject_kind: " + v1::SubjectKind_Name(event.subject_kind()) +
                                               " does not match the payload " + payload_field->name() + " (" +
                                               v1::SubjectKind_Name(payload_kind) + ")");
  }
  if (!v1::Channel_IsValid(event.channel())) {
    return reject("bad_channel", where + "channel: unknown value " + std::to_string(event.channel()));
  }

  // A sender speaks for its own verified account only.
  auto* source = event.mutable_source();
  if (!source->connector().empty() && source->connector() != connector_name) {
    return reject("foreign_source", where + "source.connector: \"" + source->connector() +
                                        "\" (events posted here come from the generic connector)");
  }
  if (!source->account().empty() && source->account() != account) {
    return reject("account_mismatch", where + "source.account: \"" + source->account() +
                                          "\" is not the signing account \"" + account + "\"");
  }
  source->set_connector(std::string(connector_name));
  source->set_account(account);
  source->clear_delivery_id();  // the host sets it from X-Passerelle-Delivery

  if (event.references_size() == 0) {
    return reject("missing_reference", where + "references: at least one (generic:" + account + ":{native_id})");
  }
  for (int i = 0; i < event.references_size(); ++i) {
    const auto& ref = event.references(i);
    const std::string ref_path = where + "references[" + std::to_string(i) + "]";
    const auto parts = split(ref);
    if (!parts || ref.size() > max_reference_bytes || has_control_characters(ref)) {
      return reject("bad_reference",
                    ref_path + ": \"" + ref.substr(0, 80) + "\" is not {connector}:{account}:{native_id}");
    }
    const bool own = parts->connector == connector_name && parts->account == account;
    if (i == 0 && !own) {
      return reject("foreign_reference",
                    ref_path + ": the origin reference must be generic:" + std::string(account) + ":{native_id}");
    }
    if (parts->connector == connector_name && !own) {
      return reject("account_mismatch", ref_path + ": refers to another generic account");
    }
  }
  if (source->native_id().empty()) source->set_native_id(std::string(split(event.references(0))->native_id));

  for (int i = 0; i < event.customers_size(); ++i) {
    const auto& customer = event.customers(i);
    const std::string path = where + "customers[" + std::to_string(i) + "]";
    if (customer.type() == v1::CUSTOMER_REF_TYPE_UNSPECIFIED || !v1::CustomerRefType_IsValid(customer.type())) {
      return reject("bad_customer_ref", path + ".type: required");
    }
    if (customer.value().empty()) return reject("bad_customer_ref", path + ".value: required");
    if ((customer.type() == v1::CUSTOMER_REF_TYPE_EMAIL_SHA256 ||
         customer.type() == v1::CUSTOMER_REF_TYPE_PHONE_SHA256) &&
        !lower_hex(customer.value(), 64)) {
      // Never let a clear e-mail address or phone number into the log.
      return reject("bad_customer_ref", path + ".value: expected the lowercase hex SHA-256, never the address itself");
    }
  }
  if (auto r = check_money(event, where.empty() ? std::string() : where.substr(0, where.size() - 1)); !r) return r;

  // The host's fields: whatever the sender put there is discarded.
  event.clear_event_id();
  event.clear_subject_id();
  event.clear_received_at();
  if (!event.has_occurred_at()) {
    event.mutable_occurred_at()->set_seconds(received_at_ms / 1000);
    event.mutable_occurred_at()->set_nanos(static_cast<std::int32_t>(received_at_ms % 1000) * 1'000'000);
  }
  return ok();
}

result<v1::Event> decode(std::string_view json, const std::string& where) {
  v1::Event event;
  pb::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;  // a misspelt field must not vanish silently
  const auto status = pb::util::JsonStringToMessage(pb::StringPiece(json.data(), json.size()), &event, options);
  if (!status.ok()) {
    const std::string message(status.message());
    const bool unknown = message.find("Cannot find field") != std::string::npos;
    return reject(unknown ? "unknown_field" : "invalid_event",
                  (where.empty() ? std::string("body: ") : where) + "not a passerelle.v1.Event: " + message);
  }
  return event;
}

// ---- The connector ----

class generic_connector final : public sdk::connector {
 public:
  explicit generic_connector(std::map<std::string, account_settings, std::less<>> accounts)
      : accounts_(std::move(accounts)) {}

  std::string_view name() const noexcept override { return connector_name; }

  std::vector<std::string> sensitive_headers() const override { return {std::string(header_signature)}; }

  result<sdk::verified_delivery> verify(const sdk::inbound_request& request) const override {
    auto account = trim(request.header(header_account));
    if (account.empty()) account = request.path_account;
    if (account.empty()) return unauthorized("unknown_account", "missing X-Passerelle-Account header");
    if (!request.path_account.empty() && request.path_account != account) {
      return unauthorized("unknown_account", "the account in the path does not match X-Passerelle-Account");
    }
    const auto it = accounts_.find(account);
    if (it == accounts_.end()) {
      return unauthorized("unknown_account", "no generic account \"" + std::string(account.substr(0, 100)) + "\"");
    }
    const auto header = request.header(header_signature);
    if (header.empty()) return unauthorized("missing_signature", "missing X-Passerelle-Signature header");
    const auto signature = parse_signature_header(header);
    if (!signature) {
      return unauthorized("bad_signature", "X-Passerelle-Signature is not t=<unix seconds>,v1=<64 lowercase hex>");
    }
    // Every secret against every v1 entry, in constant time per comparison: rotation on both sides.
    std::string signed_text = std::to_string(signature->timestamp_s);
    signed_text.push_back('.');
    signed_text.append(request.body);
    bool matched = false;
    for (const auto& secret : it->second.secrets) {
      const auto expected = sdk::to_hex(sdk::hmac_sha256(secret, signed_text));
      for (const auto& candidate : signature->v1) matched = sdk::constant_time_equal(expected, candidate) || matched;
    }
    if (!matched) return unauthorized("bad_signature", "X-Passerelle-Signature does not match any secret");
    // Checked after the signature, so that only authentic-but-old requests are reported as stale.
    const auto skew = request.received_at_ms - signature->timestamp_s * 1000;
    if (skew > signature_tolerance_ms || skew < -signature_tolerance_ms) {
      return unauthorized("stale_timestamp", "X-Passerelle-Signature t= is " + std::to_string(skew / 1000) +
                                                 " s away from now (at most 300 s allowed)");
    }
    sdk::verified_delivery delivery;
    delivery.account = std::string(account);
    const auto delivery_id = trim(request.header(header_delivery));
    if (delivery_id.size() <= max_delivery_id_bytes && printable_ascii(delivery_id)) delivery.delivery_id = delivery_id;
    delivery.topic = "events";
    return delivery;
  }

  result<std::vector<v1::Event>> translate(const sdk::inbound_request& request,
                                           const sdk::verified_delivery& delivery) const override {
    const auto delivery_id = trim(request.header(header_delivery));
    if (delivery_id.empty()) {
      return reject("missing_delivery_id", "missing X-Passerelle-Delivery header (the unique id of this delivery)");
    }
    if (delivery_id.size() > max_delivery_id_bytes || !printable_ascii(delivery_id)) {
      return reject("bad_delivery_id", "X-Passerelle-Delivery: expected at most " +
                                           std::to_string(max_delivery_id_bytes) + " printable ASCII characters");
    }
    const auto it = accounts_.find(delivery.account);
    if (it == accounts_.end())
      return reject("unknown_account", "account \"" + delivery.account + "\" is not configured");

    // Bounded structural parse first (depth, UTF-8, trailing garbage) before protobuf's parser sees anything.
    rapidjson::Document doc;
    if (auto parsed = sdk::parse_json(request.body, doc); !parsed) return std::move(parsed).err();
    if (!doc.IsObject()) return reject("invalid_payload", "body: expected one event object or {\"events\": [...]}");

    std::vector<v1::Event> events;
    const auto* batch = sdk::member(doc, "events");
    if (batch == nullptr) {
      auto event = decode(request.body, "");
      if (!event) return std::move(event).err();
      if (auto r = validate(*event, delivery.account, request.received_at_ms, ""); !r) return std::move(r).err();
      events.push_back(std::move(*event));
      return events;
    }
    if (!batch->IsArray()) return reject("invalid_payload", "events: expected an array of events");
    if (doc.MemberCount() != 1) return reject("invalid_payload", "body: {\"events\": [...]} takes no other member");
    if (batch->Size() > it->second.max_events) {
      return reject("too_many_events", "events: " + std::to_string(batch->Size()) + " events, at most " +
                                           std::to_string(it->second.max_events) + " per request");
    }
    // Re-serialise each element for protobuf's parser from a parse that keeps numbers as numbers (the first
    // one kept them as text, which protobuf would read as strings).
    rapidjson::Document exact;
    exact.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseStopWhenDoneFlag>(request.body.data(),
                                                                                    request.body.size());
    if (exact.HasParseError() || !exact.IsObject()) return reject("invalid_json", "body is not valid JSON");
    const auto& items = exact["events"];
    events.reserve(items.Size());
    for (rapidjson::SizeType i = 0; i < items.Size(); ++i) {
      const std::string where = "events[" + std::to_string(i) + "].";
      if (!items[i].IsObject())
        return reject("invalid_payload", where.substr(0, where.size() - 1) + ": expected an object");
      rapidjson::StringBuffer buffer;
      rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
      items[i].Accept(writer);
      auto event = decode(std::string_view(buffer.GetString(), buffer.GetSize()), where);
      if (!event) return std::move(event).err();
      if (auto r = validate(*event, delivery.account, request.received_at_ms, where); !r) return std::move(r).err();
      events.push_back(std::move(*event));
    }
    return events;
  }

 private:
  std::map<std::string, account_settings, std::less<>> accounts_;
};

class generic_factory final : public sdk::connector_factory {
 public:
  generic_factory() {
    metadata_.name = std::string(connector_name);
    metadata_.display_name = "Generic signed JSON";
    metadata_.description = "canonical passerelle.v1.Event messages (protobuf JSON) from custom shops and platforms";
    metadata_.status = sdk::maturity::beta;
    metadata_.security_posture =
        "X-Passerelle-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\">; 5-minute window; several "
        "secrets and several v1 entries for rotation";
    metadata_.account_key = "X-Passerelle-Account header (exact)";
    metadata_.account_fields = {
        {"secrets", sdk::field_type::secret_list, true, "signing secrets, current first"},
        {"max_events_per_request", sdk::field_type::string, false,
         "events one request may carry, 1.." + std::to_string(max_max_events_per_request) + " (default " +
             std::to_string(default_max_events_per_request) + ")"},
        {"api_base_url", sdk::field_type::url, false, "the sender's API, for call-backs (none by default)"},
    };
  }

  const sdk::connector_metadata& metadata() const noexcept override { return metadata_; }

  result<std::shared_ptr<const sdk::connector>> create(const sdk::config_node& section) const override {
    if (auto r = sdk::validate_accounts_section(metadata_, section); !r) return std::move(r).err();
    std::map<std::string, account_settings, std::less<>> accounts;
    for (const auto& [account, settings] : section.find("accounts")->map) {
      const std::string path = "accounts." + account;
      // The account appears in references, split on ':'.
      if (account.empty() || account.size() > 100 || !printable_ascii(account) ||
          account.find(':') != std::string::npos) {
        return error::reject("bad_config", path + ": expected 1..100 printable ASCII characters without ':'");
      }
      account_settings s;
      s.secrets = *settings.get_string_list("secrets");
      if (const auto limit = settings.get_string("max_events_per_request")) {
        std::size_t value = 0;
        const auto [end, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), value);
        if (ec != std::errc() || end != limit->data() + limit->size() || value == 0 ||
            value > max_max_events_per_request) {
          return error::reject("bad_config", path + ".max_events_per_request: expected an integer from 1 to " +
                                                 std::to_string(max_max_events_per_request));
        }
        s.max_events = value;
      }
      accounts.emplace(account, std::move(s));
    }
    return std::shared_ptr<const sdk::connector>(std::make_shared<generic_connector>(std::move(accounts)));
  }

 private:
  sdk::connector_metadata metadata_;
};

}  // namespace

std::optional<signature_header> parse_signature_header(std::string_view value) {
  if (value.size() > max_signature_header_bytes) return std::nullopt;
  signature_header out;
  bool has_t = false;
  while (!value.empty()) {
    const auto comma = value.find(',');
    const auto item = trim(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const auto key = item.substr(0, eq);
    const auto val = item.substr(eq + 1);
    if (key == "t") {
      if (has_t || val.empty() || val.size() > 12) return std::nullopt;
      std::int64_t t = 0;
      const auto [end, ec] = std::from_chars(val.data(), val.data() + val.size(), t);
      if (ec != std::errc() || end != val.data() + val.size() || t < 0 || val[0] == '+') return std::nullopt;
      out.timestamp_s = t;
      has_t = true;
    } else if (key == "v1") {
      if (!lower_hex(val, 64) || out.v1.size() >= max_signatures) return std::nullopt;
      out.v1.emplace_back(val);
    }
    // Other keys (a future v2 scheme) are ignored so senders can send both during a migration.
  }
  if (!has_t || out.v1.empty()) return std::nullopt;
  return out;
}

std::string sign(std::string_view secret, std::int64_t timestamp_s, std::string_view body) {
  std::string text = std::to_string(timestamp_s);
  text.push_back('.');
  text.append(body);
  return "t=" + std::to_string(timestamp_s) + ",v1=" + sdk::to_hex(sdk::hmac_sha256(secret, text));
}

std::unique_ptr<passerelle::connector::connector_factory> make_generic_factory() {
  return std::make_unique<generic_factory>();
}

}  // namespace passerelle::connectors::generic
