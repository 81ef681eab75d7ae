#include "broker/ingest/identity.h"

#include <cassert>

#include "broker/core/crypto.h"

namespace passerelle::ingest {

std::string_view subject_kind_name(v1::SubjectKind kind) noexcept {
  switch (kind) {
    case v1::SUBJECT_KIND_BASKET: return "basket";
    case v1::SUBJECT_KIND_WISHLIST: return "wishlist";
    case v1::SUBJECT_KIND_QUOTE: return "quote";
    case v1::SUBJECT_KIND_DEMO_REQUEST: return "demo_request";
    case v1::SUBJECT_KIND_INTEREST: return "interest";
    case v1::SUBJECT_KIND_CUSTOMER: return "customer";
    default: return "unspecified";
  }
}

std::string_view subject_id_prefix(v1::SubjectKind kind) noexcept {
  switch (kind) {
    case v1::SUBJECT_KIND_BASKET: return "bsk";
    case v1::SUBJECT_KIND_WISHLIST: return "wsh";
    case v1::SUBJECT_KIND_QUOTE: return "quo";
    case v1::SUBJECT_KIND_DEMO_REQUEST: return "dmo";
    case v1::SUBJECT_KIND_INTEREST: return "int";
    case v1::SUBJECT_KIND_CUSTOMER: return "cus";
    default: return "unk";
  }
}

std::string crockford_base32(std::string_view bytes, std::size_t chars) {
  static constexpr char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  assert(chars * 5 <= bytes.size() * 8 + 4);
  std::string out;
  out.reserve(chars);
  std::size_t bit = 0;
  for (std::size_t i = 0; i < chars; ++i, bit += 5) {
    unsigned v = 0;
    for (std::size_t b = 0; b < 5; ++b) {
      const std::size_t pos = bit + b;
      const std::size_t byte = pos / 8;
      const unsigned bitval =
          byte < bytes.size() ? (static_cast<unsigned char>(bytes[byte]) >> (7 - pos % 8)) & 1U : 0U;
      v = (v << 1) | bitval;
    }
    out.push_back(alphabet[v]);
  }
  return out;
}

std::string subject_id_for(v1::SubjectKind kind, std::string_view origin_reference) {
  std::string input(subject_kind_name(kind));
  input.push_back('\n');
  input.append(origin_reference);
  std::string id(subject_id_prefix(kind));
  id.push_back('_');
  id += crockford_base32(core::as_bytes(core::sha256(input)), 26);
  return id;
}

std::string event_id_for(std::string_view connector, std::string_view account, std::string_view delivery_id,
                         std::size_t index) {
  std::string input;
  input.reserve(connector.size() + account.size() + delivery_id.size() + 24);
  input.append(connector).push_back('\n');
  input.append(account).push_back('\n');
  input.append(delivery_id).push_back('\n');
  input.append(std::to_string(index));
  return "evt_" + crockford_base32(core::as_bytes(core::sha256(input)), 26);
}

bool split_reference(std::string_view reference, reference_parts& out) noexcept {
  const auto first = reference.find(':');
  if (first == std::string_view::npos || first == 0) return false;
  const auto second = reference.find(':', first + 1);
  if (second == std::string_view::npos || second == first + 1) return false;
  out.connector = reference.substr(0, first);
  out.account = reference.substr(first + 1, second - first - 1);
  out.native_id = reference.substr(second + 1);
  return true;
}

}  // namespace passerelle::ingest
