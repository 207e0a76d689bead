// SPDX-License-Identifier: BSL-1.0
// senet-demo (tools/senet_demo.cpp), run as scripts/run runs it, but short: its exit status, its JSON
// and its last line; a bad option; and a server that dies, which must fail the run.
#include <support/example_process.hpp>

#include <gtest/gtest.h>

#include <unistd.h>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using senet::test::example_process;

// The senet-demo program: $SENET_TOOLS_DIR/senet-demo, or the build tree's tools/senet-demo (this
// test is <build>/tests/tools_senet_demo_test).
fs::path demo_program() {
  if (const char* dir = std::getenv("SENET_TOOLS_DIR"); dir != nullptr && *dir != '\0') {
    return fs::path(dir) / "senet-demo";
  }
  std::error_code ec;
  return fs::read_symlink("/proc/self/exe", ec).parent_path().parent_path() / "tools" / "senet-demo";
}

// ---- a small JSON reader, enough to check the demo's output ------------------------------------

struct json;
using json_object = std::map<std::string, json>;
using json_array = std::vector<json>;
struct json {
  std::variant<std::nullptr_t, bool, double, std::string, json_array, json_object> v;

  [[nodiscard]] const json& operator[](const std::string& key) const {
    static const json missing{nullptr};
    const auto* o = std::get_if<json_object>(&v);
    if (o == nullptr || o->find(key) == o->end()) {
      ADD_FAILURE() << "JSON: no member '" << key << "'";
      return missing;
    }
    return o->at(key);
  }
  [[nodiscard]] const json_array& array() const {
    static const json_array empty;
    const auto* a = std::get_if<json_array>(&v);
    EXPECT_NE(a, nullptr) << "JSON: not an array";
    return a != nullptr ? *a : empty;
  }
  [[nodiscard]] double number() const {
    const auto* d = std::get_if<double>(&v);
    EXPECT_NE(d, nullptr) << "JSON: not a number";
    return d != nullptr ? *d : -1;
  }
  [[nodiscard]] std::string string() const {
    const auto* s = std::get_if<std::string>(&v);
    EXPECT_NE(s, nullptr) << "JSON: not a string";
    return s != nullptr ? *s : std::string();
  }
  [[nodiscard]] bool boolean() const {
    const auto* b = std::get_if<bool>(&v);
    EXPECT_NE(b, nullptr) << "JSON: not a boolean";
    return b != nullptr && *b;
  }
};

// Parses RFC 8259 JSON (without \u escapes beyond ASCII); nullopt on any syntax error.
class json_parser {
 public:
  explicit json_parser(const std::string& text) : s_(text) {}

  std::optional<json> document() {
    auto value = parse_value();
    skip_space();
    if (!value || i_ != s_.size()) {
      return std::nullopt;
    }
    return value;
  }

 private:
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) {
      ++i_;
    }
  }
  bool take(char c) {
    skip_space();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool literal(const char* word) {
    std::string w(word);
    if (s_.compare(i_, w.size(), w) == 0) {
      i_ += w.size();
      return true;
    }
    return false;
  }
  std::optional<std::string> parse_string() {
    if (!take('"')) {
      return std::nullopt;
    }
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (static_cast<unsigned char>(c) < 0x20) {
        return std::nullopt;
      }
      if (c == '\\') {
        if (i_ >= s_.size()) {
          return std::nullopt;
        }
        char e = s_[i_++];
        switch (e) {
          case '"':
          case '\\':
          case '/':
            out += e;
            break;
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case 'u':
            if (i_ + 4 > s_.size()) {
              return std::nullopt;
            }
            out += static_cast<char>(std::stoi(s_.substr(i_, 4), nullptr, 16));
            i_ += 4;
            break;
          default:
            return std::nullopt;
        }
      } else {
        out += c;
      }
    }
    if (i_ >= s_.size()) {
      return std::nullopt;
    }
    ++i_;
    return out;
  }
  std::optional<json> parse_value() {
    skip_space();
    if (i_ >= s_.size()) {
      return std::nullopt;
    }
    char c = s_[i_];
    if (c == '{') {
      ++i_;
      json_object o;
      if (take('}')) {
        return json{o};
      }
      do {
        auto key = parse_string();
        if (!key || !take(':')) {
          return std::nullopt;
        }
        auto value = parse_value();
        if (!value) {
          return std::nullopt;
        }
        o.emplace(*key, *value);
      } while (take(','));
      return take('}') ? std::optional<json>(json{o}) : std::nullopt;
    }
    if (c == '[') {
      ++i_;
      json_array a;
      if (take(']')) {
        return json{a};
      }
      do {
        auto value = parse_value();
        if (!value) {
          return std::nullopt;
        }
        a.push_back(*value);
      } while (take(','));
      return take(']') ? std::optional<json>(json{a}) : std::nullopt;
    }
    if (c == '"') {
      auto str = parse_string();
      return str ? std::optional<json>(json{*str}) : std::nullopt;
    }
    if (literal("true")) {
      return json{true};
    }
    if (literal("false")) {
      return json{false};
    }
    if (literal("null")) {
      return json{nullptr};
    }
    std::size_t used = 0;
    try {
      double d = std::stod(s_.substr(i_), &used);
      i_ += used;
      return json{d};
    } catch (...) {
      return std::nullopt;
    }
  }

  const std::string& s_;
  std::size_t i_ = 0;
};

// ---- running the demo --------------------------------------------------------------------------

struct demo_run {
  int status = -1;
  std::string out;
  std::string err;
};

demo_run run_demo(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                  std::chrono::seconds limit = 120s) {
  fs::path err_file = fs::temp_directory_path() / ("senet_demo_test_" + std::to_string(::getpid()) + ".err");
  demo_run r;
  {
    example_process demo(demo_program(), args, true, err_file, env);
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (auto line = demo.read_line(std::chrono::duration_cast<std::chrono::milliseconds>(
               deadline - std::chrono::steady_clock::now()))) {
      r.out += *line + "\n";
    }
    auto status = demo.wait(10s);
    EXPECT_TRUE(status.has_value()) << "senet-demo did not end within " << limit.count() << " s";
    r.status = status.value_or(-1);
  }
  r.err = senet::test::file_text(err_file);
  fs::remove(err_file);
  return r;
}

std::string last_line(const std::string& text) {
  std::string t = text;
  while (!t.empty() && t.back() == '\n') {
    t.pop_back();
  }
  auto pos = t.rfind('\n');
  return pos == std::string::npos ? t : t.substr(pos + 1);
}

TEST(senet_demo, one_second_json_run_passes_every_check) {
  demo_run r = run_demo({"--seconds", "1", "--json"});
  ASSERT_EQ(0, r.status) << r.err;
  EXPECT_EQ("all checks passed", last_line(r.err)) << r.err;
  auto doc = json_parser(r.out).document();
  ASSERT_TRUE(doc.has_value()) << "not JSON:\n" << r.out;
  const json& j = *doc;
  EXPECT_EQ("senet-demo", j["program"].string());
  EXPECT_TRUE(j["passed"].boolean());
  EXPECT_TRUE(j["failures"].array().empty());
  EXPECT_EQ(1.0, j["options"]["seconds"].number());
  EXPECT_EQ(64.0, j["options"]["size"].number());

  const std::size_t backends = 2 - j["skipped_backends"].array().size();
  const json_array& measurements = j["measurements"].array();
  ASSERT_FALSE(measurements.empty());
  const std::size_t faces = measurements.size() / backends;
  EXPECT_GE(faces, 4u);  // senders, coroutines, the C API, the libcoro facade
  EXPECT_EQ(backends * faces, measurements.size());
  // Every server against every client, every byte compared.
  const json_array& checks = j["checks"].array();
  EXPECT_EQ(backends * faces * faces, checks.size());
  for (const json& c : checks) {
    EXPECT_TRUE(c["passed"].boolean()) << c["error"].string();
    EXPECT_GT(c["bytes"].number(), 0);
  }
  for (const json& m : measurements) {
    SCOPED_TRACE(m["backend"].string() + " " + m["face"].string());
    EXPECT_GT(m["ping_pong_1"]["round_trips"].number(), 0);
    EXPECT_GT(m["ping_pong_n"]["round_trips"].number(), 0);
    EXPECT_EQ(64.0, m["ping_pong_n"]["connections"].number());
    EXPECT_LE(m["ping_pong_1"]["p50_us"].number(), m["ping_pong_1"]["p99_us"].number());
    EXPECT_GT(m["bulk"]["bytes"].number(), 0);
    EXPECT_EQ(65536.0, m["bulk"]["write_size"].number());
    EXPECT_GT(m["server_cpu_ns_per_round_trip"].number(), 0);
  }
}

TEST(senet_demo, the_table_and_the_last_line_on_a_plain_run) {
  demo_run r = run_demo({"--seconds", "0.3", "--backend", "epoll", "--face", "senders,coroutines",
                         "--connections", "3", "--size", "100"});
  ASSERT_EQ(0, r.status) << r.err;
  EXPECT_EQ("all checks passed", last_line(r.out));
  EXPECT_NE(r.out.find("epoll — 100-byte ping-pong at 1 and 3 connections"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nsenders "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\ncoroutines "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("c-api"), std::string::npos) << r.out;
  // Not a terminal: progress as plain lines, no escape sequences.
  EXPECT_NE(r.err.find("[1/10] epoll: senders server, senders client\n"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\033'), std::string::npos);
}

TEST(senet_demo, a_server_that_dies_fails_the_run_and_says_which) {
  // SENET_DEMO_KILL_SERVER: a test hook that kills the named face's servers once they started.
  demo_run r = run_demo({"--seconds", "0.2", "--backend", "epoll", "--face", "senders,c-api"},
                        {"SENET_DEMO_KILL_SERVER=c-api"});
  EXPECT_EQ(1, r.status) << r.out << r.err;
  std::string verdict = last_line(r.out);
  EXPECT_NE(verdict.find("FAILED"), std::string::npos) << verdict;
  EXPECT_NE(verdict.find("epoll: c-api server, senders client"), std::string::npos) << verdict;
  EXPECT_NE(verdict.find("the c-api server ended by signal 9"), std::string::npos) << verdict;
  EXPECT_EQ(verdict.find("senders server"), std::string::npos) << verdict;  // the other server passed
}

TEST(senet_demo, a_bad_option_gets_one_line_and_the_usage_and_status_2) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--frobnicate"},
                                                                {"--seconds", "soon"},
                                                                {"--backend", "kqueue"},
                                                                {"--face", "cobol"},
                                                                {"--connections", "0"},
                                                                {"--size"}}) {
    demo_run r = run_demo(args);
    SCOPED_TRACE(args[0]);
    EXPECT_EQ(2, r.status);
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_EQ(0u, r.err.find("senet-demo: ")) << r.err;
    auto second_line = r.err.find('\n') + 1;
    EXPECT_EQ(second_line, r.err.find("usage: senet-demo")) << r.err;
  }
}

TEST(senet_demo, help_documents_every_option) {
  demo_run r = run_demo({"--help"});
  EXPECT_EQ(0, r.status);
  EXPECT_EQ(0u, r.out.find("usage: senet-demo")) << r.out;
  for (const char* option :
       {"--backend", "--face", "--connections", "--seconds", "--size", "--json", "--help"}) {
    EXPECT_NE(r.out.find(std::string("  ") + option), std::string::npos) << option;
  }
}

}  // namespace
