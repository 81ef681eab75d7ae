#include "connectors/sdk/crypto.h"

#include <cctype>

#include "broker/core/crypto.h"

namespace passerelle::connector {

std::string hmac_sha256(std::string_view key, std::string_view message) {
  return std::string(core::as_bytes(core::hmac_sha256(key, message)));
}

std::string sha256(std::string_view data) { return std::string(core::as_bytes(core::sha256(data))); }

std::string to_hex(std::string_view bytes) { return core::to_hex(bytes); }

std::string base64_encode(std::string_view bytes) { return core::base64_encode(bytes); }

bool base64_decode(std::string_view text, std::string& out) { return core::base64_decode(text, out); }

bool constant_time_equal(std::string_view a, std::string_view b) noexcept { return core::constant_time_equal(a, b); }

std::string email_sha256(std::string_view email) {
  std::size_t begin = 0;
  std::size_t end = email.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(email[begin])) != 0) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(email[end - 1])) != 0) --end;
  std::string normalised(email.substr(begin, end - begin));
  for (char& c : normalised) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return core::to_hex(core::sha256(normalised));
}

}  // namespace passerelle::connector
