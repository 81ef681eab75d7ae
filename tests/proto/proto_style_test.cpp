// House rules of the published .proto files, checked on the sources themselves (a descriptor set with source info
// that protoc writes at build time, see CMakeLists.txt): a doc comment on every message, field, oneof, enum and
// enum value; enum values prefixed with their enum's name and *_UNSPECIFIED = 0; never a floating-point field.

#include <catch2/catch.hpp>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <cctype>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace {

namespace pb = google::protobuf;

pb::FileDescriptorSet load_descriptor_set() {
  std::ifstream in(PASSERELLE_PROTO_DESCRIPTOR_SET, std::ios::binary);
  REQUIRE(in.good());
  pb::FileDescriptorSet set;
  REQUIRE(set.ParseFromIstream(&in));
  REQUIRE(set.file_size() > 0);
  return set;
}

using path = std::vector<int>;

// Source locations of one file, by their path in the FileDescriptorProto.
std::map<path, const pb::SourceCodeInfo::Location*> locations_of(const pb::FileDescriptorProto& file) {
  std::map<path, const pb::SourceCodeInfo::Location*> out;
  for (const auto& loc : file.source_code_info().location()) out[path(loc.path().begin(), loc.path().end())] = &loc;
  return out;
}

// Field numbers of descriptor.proto used in source-info paths.
constexpr int file_message_type = 4;
constexpr int file_enum_type = 5;
constexpr int message_field = 2;
constexpr int message_nested_type = 3;
constexpr int message_enum_type = 4;
constexpr int message_oneof_decl = 8;
constexpr int enum_value = 2;

struct comment_checker {
  std::map<path, const pb::SourceCodeInfo::Location*> locs;
  std::vector<std::string> missing;

  void require(const path& p, const std::string& what) {
    const auto it = locs.find(p);
    const bool documented =
        it != locs.end() && (!it->second->leading_comments().empty() || !it->second->trailing_comments().empty());
    if (!documented) missing.push_back(what);
  }

  void check_enum(const pb::EnumDescriptorProto& e, const path& p, const std::string& scope) {
    require(p, scope + e.name());
    for (int i = 0; i < e.value_size(); ++i) {
      path vp = p;
      vp.insert(vp.end(), {enum_value, i});
      require(vp, scope + e.name() + "." + e.value(i).name());
    }
  }

  void check_message(const pb::DescriptorProto& m, const path& p, const std::string& scope) {
    const std::string name = scope + m.name();
    if (m.options().map_entry()) return;  // synthesised by protoc for map<> fields
    require(p, name);
    for (int i = 0; i < m.field_size(); ++i) {
      path fp = p;
      fp.insert(fp.end(), {message_field, i});
      require(fp, name + "." + m.field(i).name());
    }
    for (int i = 0; i < m.oneof_decl_size(); ++i) {
      if (m.oneof_decl(i).name().front() == '_') continue;  // synthetic oneof of a proto3 `optional` field
      path op = p;
      op.insert(op.end(), {message_oneof_decl, i});
      require(op, name + "." + m.oneof_decl(i).name() + " (oneof)");
    }
    for (int i = 0; i < m.nested_type_size(); ++i) {
      path np = p;
      np.insert(np.end(), {message_nested_type, i});
      check_message(m.nested_type(i), np, name + ".");
    }
    for (int i = 0; i < m.enum_type_size(); ++i) {
      path ep = p;
      ep.insert(ep.end(), {message_enum_type, i});
      check_enum(m.enum_type(i), ep, name + ".");
    }
  }
};

// "CustomerRefType" -> "CUSTOMER_REF_TYPE".
std::string upper_snake(const std::string& camel) {
  std::string out;
  for (std::size_t i = 0; i < camel.size(); ++i) {
    const auto c = static_cast<unsigned char>(camel[i]);
    if (i > 0 && std::isupper(c) != 0) out.push_back('_');
    out.push_back(static_cast<char>(std::toupper(c)));
  }
  return out;
}

}  // namespace

TEST_CASE("the descriptor set read by these checks is the model compiled into passerelle_proto", "[proto]") {
  const auto set = load_descriptor_set();
  for (const auto& file : set.file()) {
    INFO(file.name());
    CHECK(file.package() == "passerelle.v1");
    CHECK(file.syntax() == "proto3");
    CHECK(pb::DescriptorPool::generated_pool()->FindFileByName(file.name()) != nullptr);
  }
}

TEST_CASE("every message, field, oneof, enum and enum value of the model has a doc comment", "[proto]") {
  const auto set = load_descriptor_set();
  std::vector<std::string> missing;
  for (const auto& file : set.file()) {
    comment_checker checker{locations_of(file), {}};
    REQUIRE_FALSE(checker.locs.empty());  // protoc ran with --include_source_info
    for (int i = 0; i < file.message_type_size(); ++i) {
      checker.check_message(file.message_type(i), {file_message_type, i}, file.package() + ".");
    }
    for (int i = 0; i < file.enum_type_size(); ++i) {
      checker.check_enum(file.enum_type(i), {file_enum_type, i}, file.package() + ".");
    }
    missing.insert(missing.end(), checker.missing.begin(), checker.missing.end());
  }
  for (const auto& m : missing) UNSCOPED_INFO("undocumented: " << m);
  CHECK(missing.empty());
}

TEST_CASE("enum values carry their enum's prefix and zero is *_UNSPECIFIED", "[proto]") {
  const auto set = load_descriptor_set();
  std::vector<const pb::EnumDescriptorProto*> enums;
  for (const auto& file : set.file()) {
    for (const auto& e : file.enum_type()) enums.push_back(&e);
    for (const auto& m : file.message_type()) {
      for (const auto& e : m.enum_type()) enums.push_back(&e);
    }
  }
  REQUIRE_FALSE(enums.empty());
  for (const auto* e : enums) {
    const std::string prefix = upper_snake(e->name()) + "_";
    INFO("enum " << e->name());
    REQUIRE(e->value_size() > 0);
    CHECK(e->value(0).number() == 0);
    CHECK(e->value(0).name() == prefix + "UNSPECIFIED");
    for (const auto& v : e->value()) {
      INFO("value " << v.name());
      CHECK(v.name().rfind(prefix, 0) == 0);
    }
  }
}

TEST_CASE("no field of the model is a floating-point number", "[proto]") {
  const auto set = load_descriptor_set();
  std::vector<std::string> floats;
  std::function<void(const pb::DescriptorProto&)> visit = [&](const pb::DescriptorProto& m) {
    for (const auto& f : m.field()) {
      if (f.type() == pb::FieldDescriptorProto::TYPE_FLOAT || f.type() == pb::FieldDescriptorProto::TYPE_DOUBLE) {
        floats.push_back(m.name() + "." + f.name());
      }
    }
    for (const auto& n : m.nested_type()) visit(n);
  };
  for (const auto& file : set.file()) {
    for (const auto& m : file.message_type()) visit(m);
  }
  for (const auto& f : floats) UNSCOPED_INFO("floating-point field: " << f);
  CHECK(floats.empty());
}
