#pragma once
// Topic names of the contract (after the configured prefix) and the ones Passerelle adds.

#include <array>
#include <string>
#include <string_view>

namespace passerelle::log::topics {

inline constexpr std::string_view basket_events = "basket.events";
inline constexpr std::string_view wishlist_events = "wishlist.events";
inline constexpr std::string_view quote_events = "quote.events";
inline constexpr std::string_view demo_events = "demo.events";
inline constexpr std::string_view interest_events = "interest.events";
inline constexpr std::string_view customer_events = "customer.events";
inline constexpr std::string_view dlq = "dlq";

inline constexpr std::array<std::string_view, 7> contract_topics = {
    basket_events, wishlist_events, quote_events, demo_events, interest_events, customer_events, dlq};

// `prefix` + `name`, e.g. "passerelle." + "basket.events".
inline std::string full_name(std::string_view prefix, std::string_view name) {
  std::string s;
  s.reserve(prefix.size() + name.size());
  s.append(prefix).append(name);
  return s;
}

}  // namespace passerelle::log::topics
