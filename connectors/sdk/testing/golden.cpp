#include "connectors/sdk/testing/golden.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "connectors/sdk/json.h"
#include "passerelle/v1/event.pb.h"

namespace passerelle::connector::testing {

namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read fixture " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string to_json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = false;
  opts.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, opts);
  return out;
}

std::string render_outcome(const result<std::vector<v1::Event>>& r) {
  rapidjson::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  if (r) {
    rapidjson::Value events(rapidjson::kArrayType);
    for (const auto& e : *r) {
      rapidjson::Document ev;
      const auto text = to_json(e);
      ev.Parse(text.c_str());
      rapidjson::Value copy(ev, a);
      events.PushBack(copy, a);
    }
    doc.AddMember("events", events, a);
  } else {
    rapidjson::Value err(rapidjson::kObjectType);
    err.AddMember("kind", rapidjson::Value(std::string(to_string(r.err().kind)).c_str(), a), a);
    err.AddMember("code", rapidjson::Value(r.err().code.c_str(), a), a);
    doc.AddMember("error", err, a);
  }
  rapidjson::StringBuffer sb;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
  w.SetIndent(' ', 2);
  doc.Accept(w);
  return std::string(sb.GetString()) + "\n";
}

}  // namespace

golden_request load_golden_request(const std::string& dir, const std::string& name) {
  golden_request req;
  req.body = read_file(fs::path(dir) / (name + ".body"));
  const auto meta_text = read_file(fs::path(dir) / (name + ".request.json"));
  rapidjson::Document meta;
  meta.Parse(meta_text.c_str());
  if (meta.HasParseError() || !meta.IsObject()) throw std::runtime_error("bad fixture " + name + ".request.json");
  if (meta.HasMember("method")) req.method = meta["method"].GetString();
  if (meta.HasMember("path_account")) req.path_account = meta["path_account"].GetString();
  if (meta.HasMember("headers")) {
    // Const iteration: RapidJSON's non-const member iterators compare ambiguously under C++20's reversed operators.
    const rapidjson::Value& headers = meta["headers"];
    for (const auto& h : headers.GetObject()) req.headers.push_back({h.name.GetString(), h.value.GetString()});
  }
  return req;
}

result<std::vector<v1::Event>> run_request(const connector& c, const golden_request& req, std::int64_t received_at_ms) {
  inbound_request in;
  in.method = req.method;
  in.target = "/v1/webhooks/" + std::string(c.name());
  in.path_account = req.path_account;
  in.headers = &req.headers;
  in.body = req.body;
  in.received_at_ms = received_at_ms;
  auto delivery = c.verify(in);
  if (!delivery) return std::move(delivery).err();
  if (delivery->ping) return std::vector<v1::Event>{};
  return c.translate(in, *delivery);
}

std::vector<golden_result> run_golden_dir(const connector& c, const std::string& dir, const golden_signer& signer,
                                          std::int64_t received_at_ms) {
  std::vector<std::string> names;
  if (fs::is_directory(dir)) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      const auto file = entry.path().filename().string();
      const std::string suffix = ".request.json";
      if (file.size() > suffix.size() && file.ends_with(suffix))
        names.push_back(file.substr(0, file.size() - suffix.size()));
    }
  }
  std::sort(names.begin(), names.end());
  if (names.empty()) return {{dir, false, "no golden cases found in " + dir}};

  const bool update = std::getenv("PASSERELLE_UPDATE_GOLDEN") != nullptr;
  std::vector<golden_result> results;
  for (const auto& name : names) {
    golden_result gr{name, false, {}};
    auto req = load_golden_request(dir, name);
    if (signer) signer(req);
    const auto outcome = run_request(c, req, received_at_ms);
    const auto rendered = render_outcome(outcome);
    const auto expected_path = fs::path(dir) / (name + ".events.json");
    if (update) {
      write_file(expected_path, rendered);
      gr.passed = true;
      results.push_back(gr);
      continue;
    }
    if (!fs::exists(expected_path)) {
      gr.diff = "missing " + expected_path.string() + "; actual:\n" + rendered;
      results.push_back(gr);
      continue;
    }
    // Compare semantically: expected events parsed into messages, so field order and whitespace do not matter.
    rapidjson::Document expected;
    const auto expected_text = read_file(expected_path);
    expected.Parse(expected_text.c_str());
    if (expected.HasParseError() || !expected.IsObject()) {
      gr.diff = "bad JSON in " + expected_path.string();
    } else if (expected.HasMember("error")) {
      const std::string kind = expected["error"]["kind"].GetString();
      const std::string code = expected["error"]["code"].GetString();
      if (outcome)
        gr.diff = "expected error " + kind + "/" + code + ", got events:\n" + rendered;
      else if (std::string(to_string(outcome.err().kind)) != kind || outcome.err().code != code)
        gr.diff = "expected error " + kind + "/" + code + ", got " + std::string(to_string(outcome.err().kind)) + "/" +
                  outcome.err().code + ": " + outcome.err().message;
      else
        gr.passed = true;
    } else if (!outcome) {
      gr.diff = "expected events, got error " + outcome.err().code + ": " + outcome.err().message;
    } else {
      const auto& arr = expected["events"];
      if (arr.Size() != outcome->size()) {
        gr.diff = "expected " + std::to_string(arr.Size()) + " events, got " + std::to_string(outcome->size()) + ":\n" +
                  rendered;
      } else {
        gr.passed = true;
        for (rapidjson::SizeType i = 0; i < arr.Size(); ++i) {
          rapidjson::StringBuffer sb;
          rapidjson::Writer<rapidjson::StringBuffer> w(sb);
          arr[i].Accept(w);
          v1::Event want;
          if (!google::protobuf::util::JsonStringToMessage(sb.GetString(), &want).ok()) {
            gr.passed = false;
            gr.diff = "expected event " + std::to_string(i) + " is not a valid passerelle.v1.Event";
            break;
          }
          google::protobuf::util::MessageDifferencer differ;
          std::string report;
          differ.ReportDifferencesToString(&report);
          if (!differ.Compare(want, (*outcome)[i])) {
            gr.passed = false;
            gr.diff = "event " + std::to_string(i) + " differs:\n" + report + "actual:\n" + rendered;
            break;
          }
        }
      }
    }
    results.push_back(gr);
  }
  return results;
}

}  // namespace passerelle::connector::testing
