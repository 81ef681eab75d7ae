#include "broker/api/proto_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>
#include <google/protobuf/timestamp.pb.h>

#include <openssl/evp.h>
#include <cctype>
#include <chrono>
#include <cstdio>

namespace passerelle::api {

namespace gp = google::protobuf;

namespace {

std::string upper_snake(std::string_view camel) {
  std::string out;
  for (std::size_t i = 0; i < camel.size(); ++i) {
    const char c = camel[i];
    if (std::isupper(static_cast<unsigned char>(c)) != 0 && i > 0) out += '_';
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

void write_enum(http::json_writer& w, const gp::EnumValueDescriptor* v) {
  http::write_string(w, enum_json_name(v->type()->name(), v->name()));
}

void write_scalar(http::json_writer& w, const gp::Message& m, const gp::FieldDescriptor* f, int index) {
  const gp::Reflection* r = m.GetReflection();
  const bool rep = index >= 0;
  switch (f->cpp_type()) {
    case gp::FieldDescriptor::CPPTYPE_INT32: w.Int(rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f)); break;
    case gp::FieldDescriptor::CPPTYPE_INT64: w.Int64(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f)); break;
    case gp::FieldDescriptor::CPPTYPE_UINT32:
      w.Uint(rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
      break;
    case gp::FieldDescriptor::CPPTYPE_UINT64:
      w.Uint64(rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f));
      break;
    case gp::FieldDescriptor::CPPTYPE_DOUBLE:
      w.Double(rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f));
      break;
    case gp::FieldDescriptor::CPPTYPE_FLOAT:
      w.Double(rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f));
      break;
    case gp::FieldDescriptor::CPPTYPE_BOOL: w.Bool(rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)); break;
    case gp::FieldDescriptor::CPPTYPE_ENUM:
      write_enum(w, rep ? r->GetRepeatedEnum(m, f, index) : r->GetEnum(m, f));
      break;
    case gp::FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& s =
          rep ? r->GetRepeatedStringReference(m, f, index, &scratch) : r->GetStringReference(m, f, &scratch);
      if (f->type() == gp::FieldDescriptor::TYPE_BYTES) {
        http::write_string(w, base64(s));
      } else {
        http::write_string(w, s);
      }
      break;
    }
    case gp::FieldDescriptor::CPPTYPE_MESSAGE:
      write_message(w, rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f));
      break;
  }
}

void write_map(http::json_writer& w, const gp::Message& m, const gp::FieldDescriptor* f) {
  const gp::Reflection* r = m.GetReflection();
  w.StartObject();
  for (int i = 0; i < r->FieldSize(m, f); ++i) {
    const gp::Message& entry = r->GetRepeatedMessage(m, f, i);
    const gp::Descriptor* d = entry.GetDescriptor();
    const gp::FieldDescriptor* key = d->FindFieldByNumber(1);
    const gp::FieldDescriptor* value = d->FindFieldByNumber(2);
    std::string scratch;
    if (key->cpp_type() == gp::FieldDescriptor::CPPTYPE_STRING) {
      http::write_key(w, entry.GetReflection()->GetStringReference(entry, key, &scratch));
    } else {
      // Non-string keys: their decimal text, as protobuf's JSON mapping does.
      std::string text;
      switch (key->cpp_type()) {
        case gp::FieldDescriptor::CPPTYPE_INT32:
          text = std::to_string(entry.GetReflection()->GetInt32(entry, key));
          break;
        case gp::FieldDescriptor::CPPTYPE_INT64:
          text = std::to_string(entry.GetReflection()->GetInt64(entry, key));
          break;
        case gp::FieldDescriptor::CPPTYPE_UINT32:
          text = std::to_string(entry.GetReflection()->GetUInt32(entry, key));
          break;
        case gp::FieldDescriptor::CPPTYPE_UINT64:
          text = std::to_string(entry.GetReflection()->GetUInt64(entry, key));
          break;
        case gp::FieldDescriptor::CPPTYPE_BOOL:
          text = entry.GetReflection()->GetBool(entry, key) ? "true" : "false";
          break;
        default: break;
      }
      http::write_key(w, text);
    }
    write_scalar(w, entry, value, -1);
  }
  w.EndObject();
}

}  // namespace

std::string enum_json_name(std::string_view enum_type_name, std::string_view value_name) {
  const std::string prefix = upper_snake(enum_type_name) + "_";
  std::string_view rest = value_name;
  if (rest.starts_with(prefix)) rest.remove_prefix(prefix.size());
  std::string out(rest);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string rfc3339_ms(std::int64_t ms) {
  const std::int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  const auto millis = static_cast<int>(ms - secs * 1000);
  const std::chrono::sys_seconds tp{std::chrono::seconds(secs)};
  const auto day = std::chrono::floor<std::chrono::days>(tp);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{tp - day};
  char buf[40];
  if (millis != 0) {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%03dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                  static_cast<long>(hms.seconds().count()), millis);
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                  static_cast<long>(hms.seconds().count()));
  }
  return buf;
}

void write_message(http::json_writer& w, const gp::Message& m) {
  const gp::Descriptor* d = m.GetDescriptor();
  if (d->full_name() == "google.protobuf.Timestamp") {
    const auto& ts = static_cast<const gp::Timestamp&>(m);
    http::write_string(w, rfc3339_ms(ts.seconds() * 1000 + ts.nanos() / 1'000'000));
    return;
  }
  const bool is_money = d->full_name() == "passerelle.v1.Money";
  const gp::Reflection* r = m.GetReflection();
  w.StartObject();
  for (int i = 0; i < d->field_count(); ++i) {
    const gp::FieldDescriptor* f = d->field(i);
    if (f->is_repeated()) {
      if (r->FieldSize(m, f) == 0) continue;
      http::write_key(w, f->name());
      if (f->is_map()) {
        write_map(w, m, f);
        continue;
      }
      w.StartArray();
      for (int k = 0; k < r->FieldSize(m, f); ++k) write_scalar(w, m, f, k);
      w.EndArray();
      continue;
    }
    if (!is_money && !r->HasField(m, f)) continue;
    http::write_key(w, f->name());
    write_scalar(w, m, f, -1);
  }
  w.EndObject();
}

}  // namespace passerelle::api
