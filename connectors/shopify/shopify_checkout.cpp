#include "connectors/shopify/shopify_checkout.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "connectors/sdk/json.h"
#include "connectors/shopify/shopify_connector.h"

namespace passerelle::connectors::shopify {

namespace {

constexpr std::size_t max_error_text = 300;

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_string(json_writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void write_key(json_writer& w, std::string_view k) { w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 19 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Shopify ids may be written as GraphQL global ids ("gid://shopify/ProductVariant/123"): the REST API wants 123.
std::string_view numeric_id(std::string_view id) {
  if (const auto slash = id.rfind('/'); slash != std::string_view::npos) id.remove_prefix(slash + 1);
  return id;
}

// Shopify's error text, bounded: {"errors": "text"} or {"errors": {"field": ["msg", ...], ...}} or
// {"errors": ["msg", ...]}; anything else is summarised by its size only (a proxy's HTML page says nothing useful).
std::string shopify_errors(std::string_view body) {
  rapidjson::Document doc;
  if (!sdk::parse_json(body, doc) || !doc.IsObject()) {
    return body.empty() ? "empty body" : "non-JSON body of " + std::to_string(body.size()) + " bytes";
  }
  const auto* errors = sdk::member(doc, "errors");
  if (errors == nullptr) errors = sdk::member(doc, "error");
  if (errors == nullptr) return "no errors member";
  std::string out;
  const auto append_messages = [&out](const rapidjson::Value& v) {
    if (v.IsString()) {
      out.append(v.GetString(), v.GetStringLength());
    } else if (v.IsArray()) {
      bool first = true;
      for (const auto& m : v.GetArray()) {
        if (!m.IsString()) continue;
        if (!first) out += "; ";
        out.append(m.GetString(), m.GetStringLength());
        first = false;
      }
    }
  };
  if (errors->IsObject()) {
    bool first = true;
    for (const auto& m : errors->GetObject()) {
      if (!first) out += ", ";
      out.append(m.name.GetString(), m.name.GetStringLength());
      out += ": ";
      append_messages(m.value);
      first = false;
    }
  } else {
    append_messages(*errors);
  }
  if (out.size() > max_error_text) {
    out.resize(max_error_text);
    out += "...";
  }
  return out;
}

const account_settings* find(const shopify_checkout_builder::account_map& accounts, std::string_view shop) {
  const auto it = accounts.find(shop);
  return it == accounts.end() ? nullptr : &it->second;
}

}  // namespace

result<void> shopify_checkout_builder::check_account(std::string_view account) const {
  const auto* a = find(accounts_, account);
  if (a == nullptr)
    return error::not_found("unknown_account", "shop \"" + std::string(account) + "\" is not configured");
  if (a->access_token.empty()) {
    return error::reject("checkout_not_configured", "shop \"" + a->shop +
                                                        "\" has no access_token: draft orders need an Admin API "
                                                        "token with the write_draft_orders scope");
  }
  return ok();
}

result<sdk::outbound_request> shopify_checkout_builder::build_checkout_request(
    std::string_view account, const sdk::checkout_basket& basket) const {
  if (auto checked = check_account(account); !checked) return std::move(checked).err();
  const auto& shop = *find(accounts_, account);
  const std::string own_source = std::string(connector_name) + ":" + shop.shop;
  if (!shop.currency.empty() && !basket.currency.empty() && basket.currency != shop.currency) {
    return error::reject("currency_mismatch",
                         "the basket is in " + basket.currency + ", the shop " + shop.shop + " in " + shop.currency);
  }

  rapidjson::StringBuffer buffer;
  json_writer w(buffer);
  w.StartObject();
  write_key(w, "draft_order");
  w.StartObject();
  write_key(w, "line_items");
  w.StartArray();
  std::size_t written = 0;
  for (std::size_t i = 0; i < basket.lines.size(); ++i) {
    const auto& l = basket.lines[i].line;
    const std::string where = "line " + std::to_string(i) + " (" + (l.line_id().empty() ? l.sku() : l.line_id()) + ")";
    if (l.quantity() < 0) return error::reject("bad_quantity", where + ": negative quantity");
    if (l.quantity() == 0) continue;
    const auto variant = numeric_id(l.variant_id());
    w.StartObject();
    if (basket.lines[i].source == own_source && all_digits(variant)) {
      // The shop's own catalogue item: Shopify prices it (and applies its automatic discounts) itself.
      write_key(w, "variant_id");
      w.RawValue(variant.data(), variant.size(), rapidjson::kNumberType);
    } else {
      if (!l.has_unit_price()) return error::reject("missing_price", where + ": no unit_price for a custom line item");
      const std::string& currency = l.unit_price().currency();
      if (!basket.currency.empty() && currency != basket.currency) {
        return error::reject("currency_mismatch",
                             where + ": priced in " + currency + ", the basket is in " + basket.currency);
      }
      auto price = sdk::minor_to_decimal(l.unit_price().amount_minor(), currency);
      if (!price) return error::reject("missing_price", where + ": " + price.err().message);
      write_key(w, "title");
      write_string(w, !l.title().empty() ? l.title() : (!l.sku().empty() ? l.sku() : std::string("Item")));
      write_key(w, "price");
      write_string(w, *price);
      if (!l.sku().empty()) {
        write_key(w, "sku");
        write_string(w, l.sku());
      }
    }
    write_key(w, "quantity");
    w.Int64(l.quantity());
    w.EndObject();
    ++written;
  }
  w.EndArray();
  if (written == 0) return error::reject("empty_basket", "basket " + basket.basket_id + " has no line to check out");
  if (!basket.note.empty()) {
    write_key(w, "note");
    write_string(w, basket.note);
  }
  // Carried onto the order Shopify creates when the invoice is paid, so that the order can be tied back.
  write_key(w, "note_attributes");
  w.StartArray();
  for (const auto& [name, value] :
       {std::pair<std::string_view, std::string_view>{"passerelle_basket_id", basket.basket_id},
        {"passerelle_handoff_id", basket.handoff_id}}) {
    w.StartObject();
    write_key(w, "name");
    write_string(w, name);
    write_key(w, "value");
    write_string(w, value);
    w.EndObject();
  }
  w.EndArray();
  write_key(w, "tags");
  write_string(w, "passerelle");
  // The shop's own customer, when the basket knows it (e-mails are only known hashed, so never sent).
  for (const auto& c : basket.customers) {
    if (c.type() == v1::CUSTOMER_REF_TYPE_PLATFORM_CUSTOMER_ID && c.scope() == own_source &&
        all_digits(numeric_id(c.value()))) {
      const auto id = numeric_id(c.value());
      write_key(w, "customer");
      w.StartObject();
      write_key(w, "id");
      w.RawValue(id.data(), id.size(), rapidjson::kNumberType);
      w.EndObject();
      break;
    }
  }
  w.EndObject();
  w.EndObject();

  sdk::outbound_request req;
  req.method = "POST";
  req.url = shop.api_base_url + "/" + std::string(admin_api_version) + "/draft_orders.json";
  req.headers = {{"X-Shopify-Access-Token", shop.access_token},
                 {"Content-Type", "application/json"},
                 {"Accept", "application/json"}};
  req.body.assign(buffer.GetString(), buffer.GetSize());
  return req;
}

result<sdk::checkout_created> shopify_checkout_builder::parse_checkout_response(
    std::string_view account, const sdk::outbound_response& response) const {
  if (find(accounts_, account) == nullptr) {
    return error::not_found("unknown_account", "shop \"" + std::string(account) + "\" is not configured");
  }
  const unsigned s = response.status;
  const auto refused = [&](std::string code, std::string_view what) {
    return error::reject(std::move(code), "Shopify answered " + std::to_string(s) + " (" + std::string(what) +
                                              "): " + shopify_errors(response.body));
  };
  if (s == 429) {
    return error::retry("rate_limited", "Shopify answered 429 (rate limited): " + shopify_errors(response.body));
  }
  if (s == 500 || s == 502 || s == 503 || s == 504) {
    return error::retry("shopify_unavailable",
                        "Shopify answered " + std::to_string(s) + ": " + shopify_errors(response.body));
  }
  if (s == 401) return refused("unauthorized", "bad access token");
  if (s == 402) return refused("payment_required", "shop frozen");
  if (s == 403) return refused("forbidden", "the token lacks the write_draft_orders scope");
  if (s == 404) return refused("not_found", "no such shop or API version");
  if (s == 422) return refused("unprocessable", "draft order refused");
  if (s == 423) return refused("shop_locked", "shop locked");
  if (s != 200 && s != 201) return refused("http_" + std::to_string(s), "unexpected status");

  rapidjson::Document doc;
  if (auto parsed = sdk::parse_json(response.body, doc); !parsed) {
    return error::reject("bad_response", "Shopify's " + std::to_string(s) + " answer: " + parsed.err().message);
  }
  const auto* draft = doc.IsObject() ? sdk::member(doc, "draft_order") : nullptr;
  if (draft == nullptr || !draft->IsObject()) {
    return error::reject("bad_response", "Shopify's answer has no draft_order object");
  }
  const auto id = sdk::member_text(*draft, "id");
  const auto invoice_url = sdk::member_text(*draft, "invoice_url");
  if (!id || id->empty()) return error::reject("bad_response", "Shopify's draft_order has no id");
  if (!invoice_url || !(invoice_url->starts_with("https://") || invoice_url->starts_with("http://"))) {
    return error::reject("bad_response", "Shopify's draft_order " + *id + " has no http(s) invoice_url");
  }
  return sdk::checkout_created{*invoice_url, "draft_order:" + *id};
}

}  // namespace passerelle::connectors::shopify
