#include "broker/log/spool/spool_codec.h"

namespace passerelle::log::spool {
namespace {

constexpr std::uint8_t record_version = 1;

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xffU));
}
void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xffU));
}
void put_bytes(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

// Reads fields front to back; any overrun turns the reader bad and every later read yields nothing.
class reader {
 public:
  explicit reader(std::string_view b) : b_(b) {}
  bool good() const noexcept { return good_; }
  bool at_end() const noexcept { return b_.empty(); }
  std::uint64_t fixed(int bytes) {
    if (!good_ || b_.size() < static_cast<std::size_t>(bytes)) {
      good_ = false;
      return 0;
    }
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(b_[static_cast<std::size_t>(i)])) << (8 * i);
    b_.remove_prefix(static_cast<std::size_t>(bytes));
    return v;
  }
  std::string bytes() {
    const auto n = static_cast<std::size_t>(fixed(4));
    if (!good_ || b_.size() < n) {
      good_ = false;
      return {};
    }
    std::string s(b_.substr(0, n));
    b_.remove_prefix(n);
    return s;
  }

 private:
  std::string_view b_;
  bool good_ = true;
};

}  // namespace

std::string make_key(char prefix, std::uint64_t seq) {
  std::string k(9, '\0');
  k[0] = prefix;
  for (int i = 0; i < 8; ++i) k[static_cast<std::size_t>(8 - i)] = static_cast<char>((seq >> (8 * i)) & 0xffU);
  return k;
}

std::optional<std::uint64_t> parse_key(char prefix, std::string_view key) noexcept {
  if (key.size() != 9 || key[0] != prefix) return std::nullopt;
  std::uint64_t v = 0;
  for (std::size_t i = 1; i < 9; ++i) v = (v << 8) | static_cast<unsigned char>(key[i]);
  return v;
}

std::string encode_record(const produce_request& request) {
  std::string out;
  std::size_t size = 1 + 8 + 4 * 4 + request.topic.size() + request.key.size() + request.value.size();
  for (const auto& h : request.hdrs) size += 8 + h.key.size() + h.value.size();
  out.reserve(size);
  out.push_back(static_cast<char>(record_version));
  put_u64(out, static_cast<std::uint64_t>(request.timestamp_ms.value_or(0)));
  put_bytes(out, request.topic);
  put_bytes(out, request.key);
  put_bytes(out, request.value);
  put_u32(out, static_cast<std::uint32_t>(request.hdrs.size()));
  for (const auto& h : request.hdrs) {
    put_bytes(out, h.key);
    put_bytes(out, h.value);
  }
  return out;
}

std::optional<produce_request> decode_record(std::string_view bytes) {
  if (bytes.empty() || static_cast<std::uint8_t>(bytes[0]) != record_version) return std::nullopt;
  reader r(bytes.substr(1));
  produce_request req;
  req.timestamp_ms = static_cast<std::int64_t>(r.fixed(8));
  req.topic = r.bytes();
  req.key = r.bytes();
  req.value = r.bytes();
  const auto count = r.fixed(4);
  // Each header takes at least 8 bytes: a count beyond what is left is corruption, not a reason to allocate.
  if (!r.good() || count > bytes.size() / 8) return std::nullopt;
  req.hdrs.reserve(static_cast<std::size_t>(count));
  for (std::uint64_t i = 0; i < count && r.good(); ++i) {
    header h;
    h.key = r.bytes();
    h.value = r.bytes();
    req.hdrs.push_back(std::move(h));
  }
  if (!r.good() || !r.at_end()) return std::nullopt;
  return req;
}

std::optional<std::int64_t> peek_timestamp(std::string_view bytes) noexcept {
  if (bytes.size() < 9 || static_cast<std::uint8_t>(bytes[0]) != record_version) return std::nullopt;
  reader r(bytes.substr(1, 8));
  return static_cast<std::int64_t>(r.fixed(8));
}

}  // namespace passerelle::log::spool
