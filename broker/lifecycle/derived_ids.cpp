#include "broker/lifecycle/derived_ids.h"

#include <openssl/sha.h>

#include <array>

namespace passerelle::lifecycle {

namespace {

using digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

digest sha256(std::string_view data) {
  digest md{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md.data());
  return md;
}

// Crockford base32 of the digest's first 130 bits, most significant first (as broker/ingest/identity.cpp; kept
// here so this I/O-free library does not depend on the ingest pipeline).
std::string base32_26(const digest& md) {
  static constexpr char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::string out;
  out.reserve(26);
  for (std::size_t i = 0; i < 26; ++i) {
    unsigned v = 0;
    for (std::size_t b = 0; b < 5; ++b) {
      const std::size_t pos = i * 5 + b;
      v = (v << 1) | ((md[pos / 8] >> (7 - pos % 8)) & 1U);
    }
    out.push_back(alphabet[v]);
  }
  return out;
}

}  // namespace

std::string derived_event_id(std::string_view input_event_id, std::size_t index) {
  std::string in = "lifecycle\n";
  in.append(input_event_id).push_back('\n');
  in += std::to_string(index);
  return "evt_" + base32_26(sha256(in));
}

std::string timer_event_id(std::string_view subject_id, std::string_view timer_kind, std::int64_t due_ms,
                           std::string_view handoff_id) {
  std::string in = "timer\n";
  in.append(subject_id).push_back('\n');
  in.append(timer_kind).push_back('\n');
  in += std::to_string(due_ms);
  in.push_back('\n');
  in.append(handoff_id);
  return "evt_" + base32_26(sha256(in));
}

std::string customer_id_for(std::string_view ref_key) {
  std::string in = "customer\n";
  in.append(ref_key);
  return "cus_" + base32_26(sha256(in));
}

std::uint64_t event_id_hash(std::string_view event_id) {
  const digest md = sha256(event_id);
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | md[i];
  return v;
}

}  // namespace passerelle::lifecycle
