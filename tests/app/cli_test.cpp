#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "broker/app/cli.h"
#include "broker/app/version.h"

using namespace passerelle;
using namespace passerelle::app;

namespace {

struct outcome {
  int code = -1;
  std::string out;
  std::string err;
};

// The CLI dispatcher with the real commands. `serve` must not get as far as running the daemon in these tests:
// each one stops at a usage or configuration error.
outcome run(std::vector<std::string> args) {
  const std::vector<command> commands = {serve_command([](const config::config&, const serve_options&) {
                                           FAIL("serve ran although its arguments or configuration were bad");
                                           return 1;
                                         }),
                                         version_command()};
  std::ostringstream out;
  std::ostringstream err;
  outcome o;
  o.code = run_cli(args, commands, cli_io{out, err});
  o.out = out.str();
  o.err = err.str();
  return o;
}

std::string read_all(const std::string& path) {
  std::ifstream f(path);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Runs the built binary with `args` (shell-quoted by the caller), capturing stdout and stderr.
outcome run_binary(const std::string& args) {
  const std::string dir = std::filesystem::temp_directory_path() / ("passerelle-cli-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string cmd =
      std::string(PASSERELLE_BINARY) + " " + args + " >" + dir + "/out 2>" + dir + "/err </dev/null";
  const int status = std::system(cmd.c_str());
  outcome o;
  REQUIRE(WIFEXITED(status));
  o.code = WEXITSTATUS(status);
  o.out = read_all(dir + "/out");
  o.err = read_all(dir + "/err");
  std::filesystem::remove_all(dir);
  return o;
}

bool one_line(const std::string& s) { return !s.empty() && s.find('\n') == s.size() - 1; }

}  // namespace

TEST_CASE("serve options", "[cli]") {
  const auto none = parse_serve_options(std::vector<std::string>{});
  REQUIRE(none.ok());
  CHECK_FALSE(none->config_path.has_value());

  const auto spaced = parse_serve_options(std::vector<std::string>{"--config", "p.yaml"});
  REQUIRE(spaced.ok());
  CHECK(spaced->config_path == "p.yaml");

  const auto joined = parse_serve_options(std::vector<std::string>{"--config=q.yaml"});
  REQUIRE(joined.ok());
  CHECK(joined->config_path == "q.yaml");

  const auto missing = parse_serve_options(std::vector<std::string>{"--config"});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.err().message == "serve: --config needs a FILE");
  const auto twice = parse_serve_options(std::vector<std::string>{"--config=a", "--config", "b"});
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.err().message == "serve: --config given more than once");
  const auto unknown = parse_serve_options(std::vector<std::string>{"--port", "1"});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.err().message == R"(serve: unknown option "--port")");

  // No --config: the contract's defaults.
  const auto cfg = load_serve_config(*none);
  REQUIRE(cfg.ok());
  CHECK(cfg->http.listen.to_string() == "127.0.0.1:8080");
  CHECK(cfg->backend == log::backend_kind::embedded);
  CHECK(cfg->data_dir == "./passerelle-data");
}

TEST_CASE("exit codes of the dispatcher", "[cli]") {
  const outcome none = run({});
  CHECK(none.code == exit_code::usage);
  CHECK(none.err == "passerelle: missing command (see passerelle help)\n");

  const outcome unknown = run({"frobnicate"});
  CHECK(unknown.code == exit_code::usage);
  CHECK(unknown.err == "passerelle: unknown command \"frobnicate\" (see passerelle help)\n");

  const outcome help = run({"help"});
  CHECK(help.code == exit_code::ok);
  CHECK(help.out.find("serve [--config FILE]") != std::string::npos);
  CHECK(help.out.find("version") != std::string::npos);
  CHECK(run({"--help"}).code == exit_code::ok);

  const outcome serve_help = run({"serve", "--help"});
  CHECK(serve_help.code == exit_code::ok);
  CHECK(serve_help.out.find("--config FILE") != std::string::npos);
  CHECK(run({"help", "serve"}).code == exit_code::ok);
  CHECK(run({"help", "nope"}).code == exit_code::usage);

  const outcome bad_option = run({"serve", "--bogus"});
  CHECK(bad_option.code == exit_code::usage);
  CHECK(bad_option.err == "passerelle: serve: unknown option \"--bogus\"\n");

  const outcome missing_file = run({"serve", "--config", "/nonexistent/p.yaml"});
  CHECK(missing_file.code == exit_code::usage);
  CHECK(missing_file.err == "config: cannot read /nonexistent/p.yaml: No such file or directory\n");

  const outcome version = run({"version"});
  CHECK(version.code == exit_code::ok);
  CHECK(version.out == format_version(current_version()));
  CHECK(run({"version", "--json"}).code == exit_code::usage);
}

TEST_CASE("version names Passerelle and its libraries", "[cli]") {
  const version_info v = current_version();
  CHECK(v.passerelle == PASSERELLE_EXPECTED_VERSION);
  CHECK_FALSE(v.git_revision.empty());
  CHECK(v.boost.rfind("1.", 0) == 0);
  CHECK(v.protobuf.rfind("3.21.", 0) == 0);
  CHECK_FALSE(v.librdkafka.empty());
}

TEST_CASE("the passerelle binary: version and bad usage", "[cli]") {
  const outcome version = run_binary("version");
  CHECK(version.code == 0);
  CHECK(version.out.rfind(std::string("passerelle ") + PASSERELLE_EXPECTED_VERSION + " (git ", 0) == 0);
  CHECK(version.out.find("\nboost 1.") != std::string::npos);
  CHECK(version.out.find("\nprotobuf 3.21.") != std::string::npos);
  CHECK(version.out.find("\nlibrdkafka ") != std::string::npos);
  CHECK(version.err.empty());

  const outcome none = run_binary("");
  CHECK(none.code == 2);
  CHECK(one_line(none.err));

  const outcome unknown = run_binary("frobnicate");
  CHECK(unknown.code == 2);
  CHECK(one_line(unknown.err));

  const outcome bad_option = run_binary("serve --bogus");
  CHECK(bad_option.code == 2);
  CHECK(one_line(bad_option.err));

  // A bad configuration: exit 2 and one line naming the key.
  char name[] = "/tmp/passerelle-cli-config-XXXXXX";
  const int fd = ::mkstemp(name);
  REQUIRE(fd >= 0);
  ::close(fd);
  {
    std::ofstream f(name);
    f << "http: { listen: \"127.0.0.1:8080\" }\nkafka:\n  partitions: x\n";
  }
  const outcome bad_config = run_binary(std::string("serve --config ") + name);
  std::filesystem::remove(name);
  CHECK(bad_config.code == 2);
  CHECK(bad_config.err == "config: kafka.partitions: expected an integer from 1 to 10000, got \"x\"\n");
  CHECK(bad_config.out.empty());

  CHECK(run_binary("help").code == 0);
}
