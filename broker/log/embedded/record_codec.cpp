#include "broker/log/embedded/record_codec.h"

#include <cstring>

namespace passerelle::log::embedded {
namespace {

constexpr std::uint8_t record_format_version = 1;

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xffU));
}

std::uint64_t get_be(std::string_view in, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<std::uint8_t>(in[static_cast<std::size_t>(i)]);
  return v;
}

void put_string(std::string& out, std::string_view s) {
  put_be(out, s.size(), 4);
  out.append(s);
}

// A bounds-checked reader: every read fails instead of running past the end of a corrupt value.
class reader {
 public:
  explicit reader(std::string_view in) : in_(in) {}
  bool u64(std::uint64_t& v) { return fixed(v, 8); }
  bool u32(std::uint32_t& v) {
    std::uint64_t w = 0;
    if (!fixed(w, 4)) return false;
    v = static_cast<std::uint32_t>(w);
    return true;
  }
  bool u8(std::uint8_t& v) {
    std::uint64_t w = 0;
    if (!fixed(w, 1)) return false;
    v = static_cast<std::uint8_t>(w);
    return true;
  }
  bool bytes(std::string& s) {
    std::uint32_t n = 0;
    if (!u32(n) || in_.size() < n) return false;
    s.assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return true;
  }
  bool at_end() const { return in_.empty(); }

 private:
  bool fixed(std::uint64_t& v, int n) {
    if (in_.size() < static_cast<std::size_t>(n)) return false;
    v = get_be(in_, n);
    in_.remove_prefix(static_cast<std::size_t>(n));
    return true;
  }
  std::string_view in_;
};

error corrupt(std::string what) { return error::fatal("corrupt_record", "embedded log: " + std::move(what)); }

}  // namespace

std::string partition_prefix(std::string_view topic, std::int32_t partition) {
  std::string k;
  k.reserve(2 + topic.size() + 4 + 8);
  put_be(k, topic.size(), 2);
  k.append(topic);
  put_be(k, static_cast<std::uint32_t>(partition), 4);
  return k;
}

std::string record_key(std::string_view topic, std::int32_t partition, std::int64_t offset) {
  std::string k = partition_prefix(topic, partition);
  put_be(k, static_cast<std::uint64_t>(offset), 8);
  return k;
}

result<std::int64_t> offset_of_record_key(std::string_view key, std::string_view topic, std::int32_t partition) {
  const std::string prefix = partition_prefix(topic, partition);
  if (key.size() != prefix.size() + 8 || key.substr(0, prefix.size()) != prefix) {
    return corrupt("record key does not belong to " + std::string(topic) + "/" + std::to_string(partition));
  }
  return static_cast<std::int64_t>(get_be(key.substr(prefix.size()), 8));
}

std::string committed_offset_key(std::string_view group, std::string_view topic, std::int32_t partition) {
  std::string k;
  put_be(k, group.size(), 2);
  k.append(group);
  put_be(k, topic.size(), 2);
  k.append(topic);
  put_be(k, static_cast<std::uint32_t>(partition), 4);
  return k;
}

std::string encode_u32(std::uint32_t v) {
  std::string s;
  put_be(s, v, 4);
  return s;
}

std::string encode_u64(std::uint64_t v) {
  std::string s;
  put_be(s, v, 8);
  return s;
}

result<std::uint32_t> decode_u32(std::string_view bytes) {
  if (bytes.size() != 4) return error::fatal("corrupt_store", "embedded log: expected a 4-byte value");
  return static_cast<std::uint32_t>(get_be(bytes, 4));
}

result<std::uint64_t> decode_u64(std::string_view bytes) {
  if (bytes.size() != 8) return error::fatal("corrupt_store", "embedded log: expected an 8-byte value");
  return get_be(bytes, 8);
}

std::string encode_record_value(std::int64_t timestamp_ms, std::string_view key, std::string_view value,
                                const headers& hdrs) {
  std::size_t size = 1 + 8 + 4 + key.size() + 4 + value.size() + 4;
  for (const auto& h : hdrs) size += 8 + h.key.size() + h.value.size();
  std::string out;
  out.reserve(size);
  out.push_back(static_cast<char>(record_format_version));
  put_be(out, static_cast<std::uint64_t>(timestamp_ms), 8);
  put_string(out, key);
  put_string(out, value);
  put_be(out, hdrs.size(), 4);
  for (const auto& h : hdrs) {
    put_string(out, h.key);
    put_string(out, h.value);
  }
  return out;
}

result<std::int64_t> decode_record_timestamp(std::string_view bytes) {
  reader r(bytes);
  std::uint8_t version = 0;
  std::uint64_t ts = 0;
  if (!r.u8(version) || version != record_format_version) return corrupt("unknown record format version");
  if (!r.u64(ts)) return corrupt("truncated record timestamp");
  return static_cast<std::int64_t>(ts);
}

result<stored_record> decode_record_value(std::string_view bytes) {
  reader r(bytes);
  std::uint8_t version = 0;
  std::uint64_t ts = 0;
  if (!r.u8(version) || version != record_format_version) return corrupt("unknown record format version");
  stored_record rec;
  std::uint32_t header_count = 0;
  if (!r.u64(ts) || !r.bytes(rec.key) || !r.bytes(rec.value) || !r.u32(header_count)) {
    return corrupt("truncated record");
  }
  rec.timestamp_ms = static_cast<std::int64_t>(ts);
  // Each header takes at least 8 bytes: refuse absurd counts before reserving memory for them.
  if (header_count > bytes.size() / 8) return corrupt("header count larger than the record");
  rec.hdrs.reserve(header_count);
  for (std::uint32_t i = 0; i < header_count; ++i) {
    header h;
    if (!r.bytes(h.key) || !r.bytes(h.value)) return corrupt("truncated record header");
    rec.hdrs.push_back(std::move(h));
  }
  if (!r.at_end()) return corrupt("trailing bytes after record");
  return rec;
}

}  // namespace passerelle::log::embedded
