#pragma once
// Translation of verified Shopify webhook bodies into passerelle.v1.Event messages (the mapping tables are in
// README.md). Separate from shopify_connector.cpp so that the mapping can be read, and tested, on its own.
//
// Pure functions of their inputs; thread-safe.

#include <string_view>
#include <vector>

#include "broker/core/result.h"
#include "passerelle/v1/event.pb.h"

namespace passerelle::connectors::shopify {

struct translate_context {
  std::string_view shop;               // normalised shop domain (the account key)
  std::string_view fallback_currency;  // account `currency`, for amounts without a *_set bag; may be empty
};

// True for the topics that produce events (carts/create, carts/update, checkouts/create, checkouts/update,
// orders/create). Other topics are accepted and produce nothing.
bool is_translated_topic(std::string_view topic) noexcept;

// Parses `body` (strict, bounded: connectors/sdk/json.h) and maps it according to `topic`.
// Errors (all reject): missing_topic, invalid_json, invalid_utf8, too_deep, missing_field, bad_timestamp,
// bad_amount, bad_quantity, bad_integer, missing_currency, mixed_currency. Messages name the JSON path.
result<std::vector<v1::Event>> translate_payload(std::string_view topic, std::string_view body,
                                                 const translate_context& context);

}  // namespace passerelle::connectors::shopify
