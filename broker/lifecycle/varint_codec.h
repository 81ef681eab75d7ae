#pragma once
// LEB128 varint writer/reader shared by the state and customer encodings. Internal to passerelle_lifecycle.
// The reader never trusts its input: after the first short read or bad length every read yields zero/empty and
// ok() is false, so decoders check once at the end.

#include <cstdint>
#include <string>
#include <string_view>

namespace passerelle::lifecycle::codec {

class writer {
 public:
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void svarint(std::int64_t v) { varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63)); }
  void str(std::string_view s) {
    varint(s.size());
    out_.append(s);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Sticky-failure reader: after the first error every read yields zero/empty and ok() is false.
class reader {
 public:
  explicit reader(std::string_view in) : in_(in) {}
  bool ok() const noexcept { return ok_; }
  bool at_end() const noexcept { return pos_ == in_.size(); }
  std::uint8_t u8() {
    if (!ok_ || pos_ >= in_.size()) return fail<std::uint8_t>();
    return static_cast<std::uint8_t>(in_[pos_++]);
  }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!ok_ || pos_ >= in_.size()) return fail<std::uint64_t>();
      const auto b = static_cast<std::uint8_t>(in_[pos_++]);
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return fail<std::uint64_t>();
  }
  std::int64_t svarint() {
    const std::uint64_t u = varint();
    return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  std::string str() {
    const std::uint64_t n = varint();
    if (!ok_ || n > in_.size() - pos_) return fail<std::string>();
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  // A list length: each element takes at least one byte, so a count beyond what remains is malformed.
  std::size_t count() {
    const std::uint64_t n = varint();
    if (!ok_ || n > in_.size() - pos_) return fail<std::size_t>();
    return static_cast<std::size_t>(n);
  }
  template <typename E>
  E enum_value(int max) {
    const std::uint64_t v = varint();
    if (v > static_cast<std::uint64_t>(max)) return fail<E>();
    return static_cast<E>(v);
  }

 private:
  template <typename T>
  T fail() {
    ok_ = false;
    return T{};
  }
  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace passerelle::lifecycle::codec
