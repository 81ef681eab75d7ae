#include "connectors/sdk/json.h"

#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <limits>

namespace passerelle::connector {

namespace {

// Forwards RapidJSON's SAX events to the document being built, refusing nesting deeper than `max_depth` as it goes:
// one pass over the text, the depth bound checked before a level is opened.
class depth_limited_builder {
 public:
  using Ch = char;
  depth_limited_builder(rapidjson::Document& doc, int max_depth) noexcept : doc_(doc), max_depth_(max_depth) {}

  bool Null() { return doc_.Null(); }
  bool Bool(bool b) { return doc_.Bool(b); }
  bool Int(int i) { return doc_.Int(i); }
  bool Uint(unsigned u) { return doc_.Uint(u); }
  bool Int64(std::int64_t i) { return doc_.Int64(i); }
  bool Uint64(std::uint64_t u) { return doc_.Uint64(u); }
  bool Double(double d) { return doc_.Double(d); }
  bool RawNumber(const Ch* str, rapidjson::SizeType length, bool copy) { return doc_.RawNumber(str, length, copy); }
  bool String(const Ch* str, rapidjson::SizeType length, bool copy) { return doc_.String(str, length, copy); }
  bool Key(const Ch* str, rapidjson::SizeType length, bool copy) { return doc_.Key(str, length, copy); }
  bool StartObject() { return open() && doc_.StartObject(); }
  bool EndObject(rapidjson::SizeType members) {
    --depth_;
    return doc_.EndObject(members);
  }
  bool StartArray() { return open() && doc_.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) {
    --depth_;
    return doc_.EndArray(elements);
  }

  bool too_deep() const noexcept { return too_deep_; }

 private:
  bool open() noexcept {
    if (++depth_ > max_depth_) too_deep_ = true;
    return !too_deep_;
  }

  rapidjson::Document& doc_;
  int max_depth_;
  int depth_ = 0;
  bool too_deep_ = false;
};

}  // namespace

result<void> parse_json(std::string_view text, rapidjson::Document& doc, int max_depth) {
  // Without kParseStopWhenDoneFlag, RapidJSON refuses anything but whitespace after the root value.
  constexpr unsigned flags =
      rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;
  rapidjson::ParseResult parsed;
  bool too_deep = false;
  auto build = [&](rapidjson::Document& d) {
    depth_limited_builder builder(d, max_depth);
    rapidjson::MemoryStream bytes(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(bytes);
    rapidjson::Reader reader;
    parsed = reader.Parse<flags>(in, builder);
    too_deep = builder.too_deep();
    return !parsed.IsError();
  };
  doc.Populate(build);
  if (too_deep) return error::reject("too_deep", "JSON nests deeper than " + std::to_string(max_depth) + " levels");
  if (parsed.IsError()) {
    const auto code = parsed.Code();
    if (code == rapidjson::kParseErrorStringInvalidEncoding) {
      return error::reject("invalid_utf8", "body is not valid UTF-8 (at byte " + std::to_string(parsed.Offset()) + ")");
    }
    return error::reject("invalid_json", std::string("body is not valid JSON: ") + rapidjson::GetParseError_En(code) +
                                             " (at byte " + std::to_string(parsed.Offset()) + ")");
  }
  return ok();
}

const rapidjson::Value* member(const rapidjson::Value& object, std::string_view name) noexcept {
  if (!object.IsObject()) return nullptr;
  const auto it = object.FindMember(rapidjson::Value(rapidjson::StringRef(name.data(), name.size())));
  if (it == object.MemberEnd()) return nullptr;
  return &it->value;
}

std::optional<std::string> member_text(const rapidjson::Value& object, std::string_view name) {
  const auto* v = member(object, name);
  if (v == nullptr || !v->IsString()) return std::nullopt;  // numbers are strings under kParseNumbersAsStringsFlag
  return std::string(v->GetString(), v->GetStringLength());
}

result<std::optional<std::int64_t>> member_int(const rapidjson::Value& object, std::string_view name) {
  const auto* v = member(object, name);
  if (v == nullptr || v->IsNull()) return std::optional<std::int64_t>{};
  if (!v->IsString()) return error::reject("bad_integer", std::string(name) + ": expected an integer");
  const std::string_view s(v->GetString(), v->GetStringLength());
  if (s.empty()) return error::reject("bad_integer", std::string(name) + ": expected an integer, got \"\"");
  std::int64_t value = 0;
  bool negative = false;
  std::size_t i = 0;
  if (s[0] == '-') {
    negative = true;
    i = 1;
  }
  if (i == s.size())
    return error::reject("bad_integer", std::string(name) + ": expected an integer, got \"" + std::string(s) + "\"");
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c < '0' || c > '9') {
      return error::reject("bad_integer", std::string(name) + ": expected an integer, got \"" + std::string(s) + "\"");
    }
    if (value > (std::numeric_limits<std::int64_t>::max() - (c - '0')) / 10) {
      return error::reject("bad_integer", std::string(name) + ": integer out of range");
    }
    value = value * 10 + (c - '0');
  }
  return std::optional<std::int64_t>{negative ? -value : value};
}

std::optional<int> currency_exponent(std::string_view currency) noexcept {
  if (currency.size() != 3) return std::nullopt;
  for (const char c : currency) {
    if (c < 'A' || c > 'Z') return std::nullopt;
  }
  // ISO 4217 currencies whose minor unit is not 2 (list 1, current codes).
  static constexpr std::string_view zero[] = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
                                              "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"};
  static constexpr std::string_view three[] = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"};
  static constexpr std::string_view four[] = {"CLF", "UYW"};
  for (const auto z : zero)
    if (z == currency) return 0;
  for (const auto t : three)
    if (t == currency) return 3;
  for (const auto f : four)
    if (f == currency) return 4;
  return 2;
}

result<std::int64_t> decimal_to_minor(std::string_view amount, std::string_view currency) {
  const auto bad = [&](std::string_view why) {
    return error::reject(
        "bad_amount", "amount \"" + std::string(amount) + "\" in " + std::string(currency) + ": " + std::string(why));
  };
  const auto exponent = currency_exponent(currency);
  if (!exponent) return bad("unknown currency code");
  std::size_t i = 0;
  bool negative = false;
  if (!amount.empty() && (amount[0] == '-' || amount[0] == '+')) {
    negative = amount[0] == '-';
    i = 1;
  }
  std::int64_t units = 0;
  int fraction_digits = -1;  // -1: no '.' seen yet
  bool any_digit = false;
  for (; i < amount.size(); ++i) {
    const char c = amount[i];
    if (c == '.') {
      if (fraction_digits >= 0) return bad("two decimal points");
      fraction_digits = 0;
      continue;
    }
    if (c < '0' || c > '9') return bad("not a plain decimal number");
    any_digit = true;
    if (fraction_digits >= 0) {
      if (fraction_digits >= *exponent) {
        if (c != '0') return bad("more fractional digits than the currency has");
        continue;
      }
      ++fraction_digits;
    }
    if (units > (std::numeric_limits<std::int64_t>::max() - (c - '0')) / 10) return bad("out of range");
    units = units * 10 + (c - '0');
  }
  if (!any_digit) return bad("no digits");
  for (int k = std::max(fraction_digits, 0); k < *exponent; ++k) {
    if (units > std::numeric_limits<std::int64_t>::max() / 10) return bad("out of range");
    units *= 10;
  }
  return negative ? -units : units;
}

result<std::string> minor_to_decimal(std::int64_t minor, std::string_view currency) {
  const auto exponent = currency_exponent(currency);
  if (!exponent)
    return error::reject("bad_amount", "currency \"" + std::string(currency) + "\" is not an ISO 4217 code");
  // Through the unsigned magnitude, so that INT64_MIN has no overflow.
  const bool negative = minor < 0;
  const std::uint64_t magnitude =
      negative ? std::uint64_t{0} - static_cast<std::uint64_t>(minor) : static_cast<std::uint64_t>(minor);
  std::string digits = std::to_string(magnitude);
  const auto e = static_cast<std::size_t>(*exponent);
  if (e > 0) {
    if (digits.size() <= e) digits.insert(0, e + 1 - digits.size(), '0');
    digits.insert(digits.size() - e, 1, '.');
  }
  return negative ? "-" + digits : digits;
}

}  // namespace passerelle::connector
