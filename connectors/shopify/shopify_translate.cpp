#include "connectors/shopify/shopify_translate.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>

#include "connectors/sdk/crypto.h"
#include "connectors/sdk/json.h"
#include "connectors/shopify/shopify_connector.h"
#include "connectors/shopify/shopify_time.h"

namespace passerelle::connectors::shopify {

namespace {

namespace sdk = passerelle::connector;
using rapidjson::Value;

// ---- small helpers ----

error missing(const std::string& path, std::string_view what = "required") {
  return error::reject("missing_field", path + ": " + std::string(what));
}

std::string join(const std::string& base, std::string_view name) {
  return base.empty() ? std::string(name) : base + "." + std::string(name);
}

std::string index_path(const std::string& base, std::string_view name, std::size_t i) {
  return join(base, name) + "[" + std::to_string(i) + "]";
}

std::string text_or_empty(const Value& object, std::string_view name) {
  auto t = sdk::member_text(object, name);
  return t ? std::move(*t) : std::string();
}

// A currency code quoted in an error message: ASCII only, so that the message stays valid UTF-8.
std::string ascii_code(std::string_view s) {
  std::string out(s.substr(0, 16));
  for (auto& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

std::string reference(std::string_view shop, std::string_view native_id) {
  std::string r = "shopify:";
  r.append(shop).append(":").append(native_id);
  return r;
}

void set_time(google::protobuf::Timestamp* ts, const unix_time& t) {
  ts->set_seconds(t.seconds);
  ts->set_nanos(t.nanos);
}

result<unix_time> required_time(const Value& object, std::string_view name, const std::string& base) {
  const auto path = join(base, name);
  const auto text = sdk::member_text(object, name);
  if (!text || text->empty()) return missing(path);
  return parse_rfc3339(*text, path);
}

result<std::int64_t> checked_add(std::int64_t a, std::int64_t b, const std::string& path) {
  std::int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) return error::reject("bad_amount", path + ": amounts overflow");
  return out;
}

// Shopify's source_name says where an order or checkout was placed.
v1::Channel channel_from_source_name(std::string_view source_name) {
  if (source_name == "web") return v1::CHANNEL_WEB;
  if (source_name == "pos") return v1::CHANNEL_STORE;
  if (source_name == "iphone" || source_name == "android" || source_name == "mobile_app") return v1::CHANNEL_MOBILE;
  return v1::CHANNEL_UNSPECIFIED;
}

// ---- money ----

// Reads amounts in ONE currency per event (a Money has one currency and so must a basket). Shopify gives most
// amounts twice, in the shop's currency and in the buyer's ("presentment") currency, inside `<name>_set` bags;
// Passerelle keeps the presentment side: what the customer saw and pays (README.md, "Money").
class money_reader {
 public:
  explicit money_reader(std::string fallback_currency) : fallback_(std::move(fallback_currency)) {}

  // `object.<name>_set` (presentment side, else shop side) or, when the bag is absent, the plain decimal
  // `object.<name>` in the fallback currency. nullopt when neither is present (or both are null).
  result<std::optional<v1::Money>> read(const Value& object, std::string_view name, const std::string& base) {
    const std::string set_name = std::string(name) + "_set";
    const Value* bag = sdk::member(object, set_name);
    std::string amount;
    std::string code;
    std::string where;
    if (bag != nullptr && bag->IsObject()) {
      const Value* side = sdk::member(*bag, "presentment_money");
      where = join(join(base, set_name), "presentment_money");
      if (side == nullptr || !side->IsObject()) {
        side = sdk::member(*bag, "shop_money");
        where = join(join(base, set_name), "shop_money");
      }
      if (side == nullptr || !side->IsObject()) {
        return missing(join(base, set_name), "expected presentment_money or shop_money");
      }
      auto a = sdk::member_text(*side, "amount");
      if (!a) return missing(join(where, "amount"));
      auto c = sdk::member_text(*side, "currency_code");
      if (!c) return missing(join(where, "currency_code"));
      amount = std::move(*a);
      code = std::move(*c);
    } else if (bag != nullptr && !bag->IsNull()) {
      return error::reject("bad_amount", join(base, set_name) + ": expected an object with presentment_money");
    } else {
      auto a = sdk::member_text(object, name);
      if (!a) return std::optional<v1::Money>{};
      where = join(base, name);
      if (fallback_.empty()) {
        return error::reject("missing_currency", join(base, set_name) + ": absent, and no currency is known for " +
                                                     where + " (configure `currency` for this shop)");
      }
      amount = std::move(*a);
      code = fallback_;
    }
    if (currency_.empty()) {
      currency_ = code;
    } else if (code != currency_) {
      return error::reject("mixed_currency", where + ": currency \"" + ascii_code(code) + "\" differs from " +
                                                 currency_ + " used by the rest of the payload");
    }
    auto minor = sdk::decimal_to_minor(amount, code);
    if (!minor) return error::reject("bad_amount", where + ": " + minor.err().message);
    v1::Money m;
    m.set_amount_minor(*minor);
    m.set_currency(code);
    return std::optional<v1::Money>{std::move(m)};
  }

  // A plain decimal that has no bag of its own, in the established currency (e.g. a cart discount's `amount`).
  result<v1::Money> plain(std::string_view amount, const std::string& path) const {
    auto minor = sdk::decimal_to_minor(amount, currency_);
    if (!minor) return error::reject("bad_amount", path + ": " + minor.err().message);
    v1::Money m;
    m.set_amount_minor(*minor);
    m.set_currency(currency_);
    return m;
  }

  const std::string& currency() const noexcept { return currency_; }
  const std::string& fallback() const noexcept { return fallback_; }

 private:
  std::string fallback_;
  std::string currency_;  // set by the first amount read; every later amount must agree
};

v1::Money money(std::int64_t minor, const std::string& currency) {
  v1::Money m;
  m.set_amount_minor(minor);
  m.set_currency(currency);
  return m;
}

// ---- customers ----

void add_customer_ref(std::vector<v1::CustomerRef>& refs, v1::CustomerRefType type, std::string value,
                      std::string scope) {
  for (const auto& r : refs) {
    if (r.type() == type && r.value() == value && r.scope() == scope) return;
  }
  v1::CustomerRef ref;
  ref.set_type(type);
  ref.set_value(std::move(value));
  ref.set_scope(std::move(scope));
  refs.push_back(std::move(ref));
}

void add_email(std::vector<v1::CustomerRef>& refs, const std::optional<std::string>& email) {
  // Only something that looks like an address: Shopify sends null or "" for guests who gave none.
  if (!email || email->find('@') == std::string::npos) return;
  add_customer_ref(refs, v1::CUSTOMER_REF_TYPE_EMAIL_SHA256, sdk::email_sha256(*email), "");
}

void add_phone(std::vector<v1::CustomerRef>& refs, const std::optional<std::string>& phone) {
  // Hashed only when already in E.164 ("+" and 8 to 15 digits): any other spelling would hash differently from
  // the same number elsewhere, and normalising national numbers needs a country we do not know.
  if (!phone || phone->size() < 9 || phone->size() > 16 || (*phone)[0] != '+') return;
  if (!std::all_of(phone->begin() + 1, phone->end(), [](char c) { return c >= '0' && c <= '9'; })) return;
  add_customer_ref(refs, v1::CUSTOMER_REF_TYPE_PHONE_SHA256, sdk::to_hex(sdk::sha256(*phone)), "");
}

// Customer references of a checkout or order: the shop-scoped customer id, hashed e-mails and phones.
std::vector<v1::CustomerRef> customer_refs(const Value& doc, std::string_view shop) {
  std::vector<v1::CustomerRef> refs;
  if (const Value* customer = sdk::member(doc, "customer"); customer != nullptr && customer->IsObject()) {
    if (auto id = sdk::member_text(*customer, "id"); id && !id->empty()) {
      add_customer_ref(refs, v1::CUSTOMER_REF_TYPE_PLATFORM_CUSTOMER_ID, *id, "shopify:" + std::string(shop));
    }
    add_email(refs, sdk::member_text(*customer, "email"));
  }
  add_email(refs, sdk::member_text(doc, "email"));
  add_email(refs, sdk::member_text(doc, "contact_email"));
  if (const Value* customer = sdk::member(doc, "customer"); customer != nullptr && customer->IsObject()) {
    add_phone(refs, sdk::member_text(*customer, "phone"));
  }
  add_phone(refs, sdk::member_text(doc, "phone"));
  return refs;
}

// ---- lines ----

// Line properties come as an object in carts ({"Engraving": "A & B"}) and as [{"name", "value"}] in orders.
// Scalars are kept as text; nested values and nulls are skipped (no meaning on a till).
void copy_properties(const Value& item, v1::Line& line) {
  const Value* props = sdk::member(item, "properties");
  if (props == nullptr) return;
  auto* out = line.mutable_properties();
  const auto scalar = [](const Value& v) -> std::optional<std::string> {
    if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
    if (v.IsBool()) return std::string(v.GetBool() ? "true" : "false");
    return std::nullopt;
  };
  if (props->IsObject()) {
    for (const auto& m : props->GetObject()) {
      if (auto s = scalar(m.value)) (*out)[std::string(m.name.GetString(), m.name.GetStringLength())] = *s;
    }
  } else if (props->IsArray()) {
    for (const auto& p : props->GetArray()) {
      auto name = sdk::member_text(p, "name");
      const Value* value = sdk::member(p, "value");
      if (!name || value == nullptr) continue;
      if (auto s = scalar(*value)) (*out)[*name] = *s;
    }
  }
}

// Shopify's cart line `key` is stable for a variant + properties combination; it is the line id. Without it
// (older payloads), the id is derived from variant, sku and properties so that it stays stable across snapshots.
std::string derived_line_id(const v1::Line& line) {
  std::string material = line.variant_id() + "\n" + line.sku() + "\n" + line.product_id();
  std::map<std::string, std::string> sorted(line.properties().begin(), line.properties().end());
  for (const auto& [k, v] : sorted) material.append("\n").append(k).append("=").append(v);
  return "derived:" + sdk::to_hex(sdk::sha256(material)).substr(0, 24);
}

result<std::int64_t> required_quantity(const Value& item, const std::string& path) {
  auto q = sdk::member_int(item, "quantity");
  if (!q) return error::reject(q.err().code, join(path, "quantity") + ": " + q.err().message);
  if (!q->has_value()) return missing(join(path, "quantity"));
  if (**q < 0) return error::reject("bad_quantity", join(path, "quantity") + ": must not be negative");
  return **q;
}

// Computes quantity * unit - discount, exactly, or reports the overflow.
result<std::int64_t> computed_line_total(std::int64_t quantity, std::int64_t unit, std::int64_t discount,
                                         const std::string& path) {
  std::int64_t gross = 0;
  std::int64_t net = 0;
  if (__builtin_mul_overflow(quantity, unit, &gross) || __builtin_sub_overflow(gross, discount, &net)) {
    return error::reject("bad_amount", path + ": line total overflows");
  }
  return net;
}

struct promotion_acc {
  v1::Promotion promotion;
  bool amount_known = true;
  std::int64_t amount = 0;
};

// True when a cart line's prices are in one currency for shop and buyer: then a plain `amount` (a discount's,
// which comes without a bag) is in that currency too. Otherwise it is ambiguous and left out.
bool single_currency_line(const Value& item) {
  const Value* bag = sdk::member(item, "price_set");
  if (bag == nullptr || !bag->IsObject()) return true;
  const Value* shop = sdk::member(*bag, "shop_money");
  const Value* presentment = sdk::member(*bag, "presentment_money");
  if (shop == nullptr || presentment == nullptr) return true;
  return sdk::member_text(*shop, "currency_code") == sdk::member_text(*presentment, "currency_code");
}

result<v1::Line> cart_line(const Value& item, const std::string& path, money_reader& mr,
                           std::vector<promotion_acc>& promotions) {
  if (!item.IsObject()) return error::reject("missing_field", path + ": expected an object");
  v1::Line line;
  line.set_sku(text_or_empty(item, "sku"));
  line.set_product_id(text_or_empty(item, "product_id"));
  line.set_variant_id(text_or_empty(item, "variant_id"));
  line.set_title(text_or_empty(item, "title"));
  copy_properties(item, line);
  if (auto key = sdk::member_text(item, "key"); key && !key->empty())
    line.set_line_id(*key);
  else
    line.set_line_id(derived_line_id(line));

  auto quantity = required_quantity(item, path);
  if (!quantity) return std::move(quantity).err();
  line.set_quantity(*quantity);

  auto unit = mr.read(item, "price", path);
  if (!unit) return std::move(unit).err();
  if (!unit->has_value()) return missing(join(path, "price_set"), "required (or a plain price)");
  *line.mutable_unit_price() = **unit;

  auto discount = mr.read(item, "total_discount", path);
  if (!discount) return std::move(discount).err();
  const std::int64_t discount_minor = discount->has_value() ? (*discount)->amount_minor() : 0;
  *line.mutable_discount_total() = money(discount_minor, mr.currency());

  auto total = mr.read(item, "line_price", path);
  if (!total) return std::move(total).err();
  if (total->has_value()) {
    *line.mutable_line_total() = **total;
  } else {
    auto computed = computed_line_total(*quantity, (*unit)->amount_minor(), discount_minor, path);
    if (!computed) return std::move(computed).err();
    *line.mutable_line_total() = money(*computed, mr.currency());
  }

  // Line-level discounts ("discounts": [{"title", "amount"[, "amount_set"]}]) become promotions, grouped by title.
  if (const Value* discounts = sdk::member(item, "discounts"); discounts != nullptr && discounts->IsArray()) {
    const bool plain_ok = single_currency_line(item);
    for (rapidjson::SizeType d = 0; d < discounts->Size(); ++d) {
      const Value& entry = (*discounts)[d];
      if (!entry.IsObject()) continue;
      const auto entry_path = index_path(path, "discounts", d);
      const std::string title = text_or_empty(entry, "title");
      auto it = std::find_if(promotions.begin(), promotions.end(),
                             [&](const promotion_acc& p) { return p.promotion.title() == title; });
      if (it == promotions.end()) {
        promotions.push_back({});
        it = std::prev(promotions.end());
        it->promotion.set_title(title);
      }
      if (std::find(it->promotion.line_ids().begin(), it->promotion.line_ids().end(), line.line_id()) ==
          it->promotion.line_ids().end()) {
        it->promotion.add_line_ids(line.line_id());
      }
      std::optional<std::int64_t> amount;
      if (const Value* bag = sdk::member(entry, "amount_set"); bag != nullptr && bag->IsObject()) {
        auto m = mr.read(entry, "amount", entry_path);
        if (!m) return std::move(m).err();
        if (m->has_value()) amount = (*m)->amount_minor();
      } else if (auto text = sdk::member_text(entry, "amount"); text && plain_ok) {
        auto m = mr.plain(*text, join(entry_path, "amount"));
        if (!m) return std::move(m).err();
        amount = m->amount_minor();
      }
      if (!amount) {
        it->amount_known = false;
      } else {
        auto sum = checked_add(it->amount, *amount, join(entry_path, "amount"));
        if (!sum) return std::move(sum).err();
        it->amount = *sum;
      }
    }
  }
  return line;
}

result<v1::Line> order_line(const Value& item, const std::string& path, money_reader& mr) {
  if (!item.IsObject()) return error::reject("missing_field", path + ": expected an object");
  v1::Line line;
  line.set_line_id(text_or_empty(item, "id"));
  line.set_sku(text_or_empty(item, "sku"));
  line.set_product_id(text_or_empty(item, "product_id"));
  line.set_variant_id(text_or_empty(item, "variant_id"));
  // `name` is product title plus variant title ("Aviator sunglasses - Large"); `title` is the product's only.
  auto name = text_or_empty(item, "name");
  line.set_title(name.empty() ? text_or_empty(item, "title") : name);
  copy_properties(item, line);
  if (line.line_id().empty()) line.set_line_id(derived_line_id(line));

  auto quantity = required_quantity(item, path);
  if (!quantity) return std::move(quantity).err();
  line.set_quantity(*quantity);

  auto unit = mr.read(item, "price", path);
  if (!unit) return std::move(unit).err();
  if (!unit->has_value()) return missing(join(path, "price_set"), "required (or a plain price)");
  *line.mutable_unit_price() = **unit;

  // Orders carry line discounts as discount_allocations (total_discount is deprecated and often 0).
  std::int64_t discount_minor = 0;
  const Value* allocations = sdk::member(item, "discount_allocations");
  if (allocations != nullptr && allocations->IsArray() && !allocations->Empty()) {
    for (rapidjson::SizeType a = 0; a < allocations->Size(); ++a) {
      const auto alloc_path = index_path(path, "discount_allocations", a);
      auto m = mr.read((*allocations)[a], "amount", alloc_path);
      if (!m) return std::move(m).err();
      if (!m->has_value()) return missing(join(alloc_path, "amount_set"), "required (or a plain amount)");
      auto sum = checked_add(discount_minor, (*m)->amount_minor(), alloc_path);
      if (!sum) return std::move(sum).err();
      discount_minor = *sum;
    }
  } else {
    auto discount = mr.read(item, "total_discount", path);
    if (!discount) return std::move(discount).err();
    if (discount->has_value()) discount_minor = (*discount)->amount_minor();
  }
  *line.mutable_discount_total() = money(discount_minor, mr.currency());
  auto total = computed_line_total(*quantity, (*unit)->amount_minor(), discount_minor, path);
  if (!total) return std::move(total).err();
  *line.mutable_line_total() = money(*total, mr.currency());
  return line;
}

// ---- the three mapped payloads ----

v1::Event basket_event(std::string_view shop, const std::string& native_id, const unix_time& at, v1::Channel channel) {
  v1::Event e;
  e.set_subject_kind(v1::SUBJECT_KIND_BASKET);
  set_time(e.mutable_occurred_at(), at);
  e.set_channel(channel);
  auto* source = e.mutable_source();
  source->set_connector(std::string(connector_name));
  source->set_account(std::string(shop));
  source->set_native_id(native_id);
  return e;
}

void add_reference(v1::Event& e, const std::string& ref) {
  if (std::find(e.references().begin(), e.references().end(), ref) == e.references().end()) e.add_references(ref);
}

result<std::vector<v1::Event>> translate_cart(const Value& doc, const translate_context& ctx) {
  // The cart token identifies the cart everywhere (checkouts' and orders' cart_token); `id` repeats it.
  auto raw_token = sdk::member_text(doc, "token");
  if (!raw_token || raw_token->empty()) raw_token = sdk::member_text(doc, "id");
  const std::string token = raw_token ? normalize_token(*raw_token) : std::string();
  if (token.empty()) return missing("token", "required (the cart token)");

  auto updated = required_time(doc, "updated_at", "");
  if (!updated) return std::move(updated).err();

  const Value* items = sdk::member(doc, "line_items");
  if (items == nullptr) return missing("line_items", "required (an empty cart sends [])");
  if (!items->IsNull() && !items->IsArray()) return error::reject("missing_field", "line_items: expected an array");

  money_reader mr{std::string(ctx.fallback_currency)};
  v1::BasketSnapshot snapshot;
  std::vector<promotion_acc> promotions;
  std::int64_t subtotal = 0;
  std::int64_t discounts = 0;
  if (items->IsArray()) {
    for (rapidjson::SizeType i = 0; i < items->Size(); ++i) {
      const auto path = index_path("", "line_items", i);
      auto line = cart_line((*items)[i], path, mr, promotions);
      if (!line) return std::move(line).err();
      auto s = checked_add(subtotal, line->line_total().amount_minor(), path);
      if (!s) return std::move(s).err();
      subtotal = *s;
      auto d = checked_add(discounts, line->discount_total().amount_minor(), path);
      if (!d) return std::move(d).err();
      discounts = *d;
      *snapshot.add_lines() = std::move(*line);
    }
  }
  // An empty cart names no currency: the account's configured one, if any, else none (and no totals).
  const std::string currency = mr.currency().empty() ? mr.fallback() : mr.currency();
  snapshot.set_currency(currency);
  if (!currency.empty()) {
    // Carts carry no totals of their own: the subtotal and discounts are the sums of the lines. Tax, shipping
    // and the grand total are only known at checkout, so they stay unset.
    *snapshot.mutable_totals()->mutable_subtotal() = money(subtotal, currency);
    *snapshot.mutable_totals()->mutable_discount_total() = money(discounts, currency);
  }
  for (auto& p : promotions) {
    if (p.amount_known) *p.promotion.mutable_amount() = money(p.amount, currency);
    *snapshot.add_promotions() = std::move(p.promotion);
  }
  if (auto note = sdk::member_text(doc, "note")) snapshot.set_note(*note);

  // Shopify only sends carts webhooks for its online store: the channel is always web.
  auto e = basket_event(ctx.shop, token, *updated, v1::CHANNEL_WEB);
  e.set_source_version(updated->millis());
  add_reference(e, reference(ctx.shop, token));
  *e.mutable_basket_snapshot() = std::move(snapshot);
  std::vector<v1::Event> out;
  out.push_back(std::move(e));
  return out;
}

result<std::vector<v1::Event>> translate_checkout(const Value& doc, const translate_context& ctx) {
  auto raw_token = sdk::member_text(doc, "token");
  const std::string token = raw_token ? normalize_token(*raw_token) : std::string();
  if (token.empty()) return missing("token", "required (the checkout token)");
  auto raw_cart = sdk::member_text(doc, "cart_token");
  const std::string cart_token = raw_cart ? normalize_token(*raw_cart) : std::string();

  auto updated = required_time(doc, "updated_at", "");
  if (!updated) return std::move(updated).err();

  // The basket is the cart's; a checkout without a cart (Buy Button, checkout links, API) is its own origin.
  const std::string checkout_ref = reference(ctx.shop, "checkout:" + token);
  const std::string origin = cart_token.empty() ? checkout_ref : reference(ctx.shop, cart_token);

  auto source_name = text_or_empty(doc, "source_name");
  auto channel = channel_from_source_name(source_name);
  if (channel == v1::CHANNEL_UNSPECIFIED && source_name.empty()) channel = v1::CHANNEL_WEB;
  auto e = basket_event(ctx.shop, token, *updated, channel);
  // No source_version: updated_at is the checkout's clock, not the cart's, and must not make the engine drop
  // this event as older than the cart's last snapshot (0 = never stale; README.md, "Ordering").
  add_reference(e, origin);
  add_reference(e, checkout_ref);

  auto refs = customer_refs(doc, ctx.shop);
  if (refs.empty()) {
    // Nobody known yet (guest before the contact step): still attach the checkout token to the basket.
    auto* linked = e.mutable_subject_linked();
    linked->set_reference(checkout_ref);
    linked->set_reason("checkout_started");
  } else {
    auto* attached = e.mutable_basket_customer_attached();
    for (const auto& r : refs) {
      *attached->add_customers() = r;
      *e.add_customers() = r;
    }
  }
  std::vector<v1::Event> out;
  out.push_back(std::move(e));
  return out;
}

result<std::vector<v1::Event>> translate_order(const Value& doc, const translate_context& ctx) {
  const std::string id = text_or_empty(doc, "id");
  if (id.empty()) return missing("id", "required (the order id)");
  auto raw_cart = sdk::member_text(doc, "cart_token");
  const std::string cart_token = raw_cart ? normalize_token(*raw_cart) : std::string();
  auto raw_checkout = sdk::member_text(doc, "checkout_token");
  const std::string checkout_token = raw_checkout ? normalize_token(*raw_checkout) : std::string();
  if (cart_token.empty() && checkout_token.empty()) {
    // POS sales, draft orders and API orders had no online basket: nothing to convert (README.md).
    return std::vector<v1::Event>{};
  }

  auto created = required_time(doc, "created_at", "");
  if (!created) return std::move(created).err();

  // Plain amounts of an order are in the shop's currency (`currency`); the *_set bags give the buyer's.
  money_reader mr{text_or_empty(doc, "currency")};
  v1::BasketConverted converted;
  converted.set_kind(v1::CONVERSION_KIND_ORDER);
  const std::string order_ref = reference(ctx.shop, "order:" + id);
  converted.set_order_reference(order_ref);
  auto number = text_or_empty(doc, "name");
  converted.set_order_number(number.empty() ? text_or_empty(doc, "order_number") : number);

  if (const Value* items = sdk::member(doc, "line_items"); items != nullptr && items->IsArray()) {
    for (rapidjson::SizeType i = 0; i < items->Size(); ++i) {
      auto line = order_line((*items)[i], index_path("", "line_items", i), mr);
      if (!line) return std::move(line).err();
      *converted.add_lines() = std::move(*line);
    }
  }

  auto* totals = converted.mutable_totals();
  struct field {
    std::string_view name;
    v1::Money* (v1::Totals::*target)();
    bool required;
  };
  const field fields[] = {
      {"subtotal_price", &v1::Totals::mutable_subtotal, false},
      {"total_discounts", &v1::Totals::mutable_discount_total, false},
      {"total_tax", &v1::Totals::mutable_tax_total, false},
      {"total_shipping_price", &v1::Totals::mutable_shipping_total, false},
      {"total_price", &v1::Totals::mutable_total, true},
  };
  for (const auto& f : fields) {
    auto m = mr.read(doc, f.name, "");
    if (!m) return std::move(m).err();
    if (m->has_value())
      *(totals->*f.target)() = **m;
    else if (f.required)
      return missing(std::string(f.name) + "_set", "required (or a plain " + std::string(f.name) + ")");
  }
  if (const Value* included = sdk::member(doc, "taxes_included"); included != nullptr && included->IsBool()) {
    totals->set_taxes_included(included->GetBool());
  }

  const std::string checkout_ref =
      checkout_token.empty() ? std::string() : reference(ctx.shop, "checkout:" + checkout_token);
  const std::string origin = cart_token.empty() ? checkout_ref : reference(ctx.shop, cart_token);
  auto e = basket_event(ctx.shop, id, *created, channel_from_source_name(text_or_empty(doc, "source_name")));
  add_reference(e, origin);
  add_reference(e, order_ref);
  if (!checkout_ref.empty()) add_reference(e, checkout_ref);
  for (auto& r : customer_refs(doc, ctx.shop)) *e.add_customers() = std::move(r);
  *e.mutable_basket_converted() = std::move(converted);
  std::vector<v1::Event> out;
  out.push_back(std::move(e));
  return out;
}

}  // namespace

bool is_translated_topic(std::string_view topic) noexcept {
  return topic == "carts/create" || topic == "carts/update" || topic == "checkouts/create" ||
         topic == "checkouts/update" || topic == "orders/create";
}

result<std::vector<v1::Event>> translate_payload(std::string_view topic, std::string_view body,
                                                 const translate_context& context) {
  if (topic.empty()) return error::reject("missing_topic", "X-Shopify-Topic header missing or empty");
  // Topics Passerelle does not use are acknowledged without parsing: nothing in them is needed.
  if (!is_translated_topic(topic)) return std::vector<v1::Event>{};
  rapidjson::Document doc;
  if (auto parsed = sdk::parse_json(body, doc); !parsed) return std::move(parsed).err();
  if (!doc.IsObject()) return error::reject("invalid_json", "body: expected a JSON object");
  if (topic.starts_with("carts/")) return translate_cart(doc, context);
  if (topic.starts_with("checkouts/")) return translate_checkout(doc, context);
  return translate_order(doc, context);
}

}  // namespace passerelle::connectors::shopify
