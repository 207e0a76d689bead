// SPDX-License-Identifier: BSL-1.0
// libFuzzer target for the HTTP example's request parsing (examples/http_request.hpp), which reads
// what any client sends. The input is the bytes a client sent, after one byte that picks the head
// size limit. Checked, for any bytes:
// - `parse_request` returns, and every view it gives points into its input (but the "/" path of
//   an absolute-form target without one);
// - a `complete` head ends with CRLFCRLF within the limit; its method and field names are tokens,
//   its target has no control character and its path starts with '/', its field values are trimmed
//   and hold no control character; there are at most `max_headers` fields; Content-Length is the
//   value of that field; and the same bytes cut anywhere before the end of the head are
//   `incomplete`, while more bytes after it change nothing;
// - the head written back from the parsed fields parses to the same fields;
// - `resolve_path` never gives a path that leaves the served directory (no "..", no leading '/',
//   no NUL, no empty segment), and `query_parameter` and `choose_coding` return on any request.
#include "fuzz_input.hpp"

#include <http_request.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using senet::fuzz::check;
namespace http = example::http;

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

bool has_control(std::string_view s) {
  for (char c : s) {
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
      return true;
    }
  }
  return false;
}

void check_request(const http::request& req, std::string_view in, std::size_t consumed) {
  const std::string_view head = in.substr(0, consumed);
  check(!req.method.empty() && inside(req.method, head), "the method is in the head");
  for (char c : req.method) {
    check(http::detail::is_tchar(c), "the method is a token");
  }
  check(inside(req.target, head) && !req.target.empty() && !has_control(req.target), "the target");
  // The path is in the target, or the static "/" of an absolute-form target without a path.
  check((inside(req.path, head) || req.path == "/") && !req.path.empty() && req.path.front() == '/',
        "the path starts with /");
  check(inside(req.query, req.target), "the query is in the target");
  check(req.minor_version >= 0 && req.minor_version <= 9, "HTTP/1.x");
  check(req.header_count <= http::request::max_headers, "at most max_headers fields");
  bool have_length = false;
  for (std::size_t i = 0; i < req.header_count; ++i) {
    const http::header& h = req.headers[i];
    check(!h.name.empty() && inside(h.name, head) && inside(h.value, head), "a field is in the head");
    for (char c : h.name) {
      check(http::detail::is_tchar(c), "a field name is a token");
    }
    check(!has_control(h.value), "a field value has no control character");
    check(http::detail::trim(h.value) == h.value, "a field value is trimmed");
    if (http::detail::iequals(h.name, "content-length")) {
      std::uint64_t n = 0;
      for (char c : h.value) {
        check(c >= '0' && c <= '9', "Content-Length is digits");
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
      }
      check(n == req.content_length, "content_length is the field's value");
      have_length = true;
    }
    check(!http::detail::iequals(h.name, "transfer-encoding"), "no Transfer-Encoding in a complete head");
  }
  check(have_length || req.content_length == 0, "content_length is 0 without the field");
}

// The head written back from `req`'s fields.
std::string write_back(const http::request& req) {
  std::string out;
  out.append(req.method).append(" ").append(req.target).append(" HTTP/1.");
  out += static_cast<char>('0' + req.minor_version);
  out += "\r\n";
  for (std::size_t i = 0; i < req.header_count; ++i) {
    out.append(req.headers[i].name).append(": ").append(req.headers[i].value).append("\r\n");
  }
  out += "\r\n";
  return out;
}

void check_path(std::string_view path) {
  std::string out;
  if (!http::resolve_path(path, out)) {
    return;
  }
  check(out.find('\0') == std::string::npos, "no NUL in a resolved path");
  check(out.empty() || (out.front() != '/' && out.back() != '/'), "a resolved path is relative");
  std::string_view rest = out;
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    check(!segment.empty() && segment != "." && segment != "..", "a resolved segment names a file");
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  senet::fuzz::input in(data, size);
  const std::size_t max_head = in.below(4) == 0 ? 16 + in.below(240) : 8192;
  const std::string bytes(in.take(size));  // an owned copy, so that a read past it is caught
  const std::string_view text = bytes;

  http::request req;
  const http::parse_result r = http::parse_request(text, req, max_head);
  check(r.status == http::parse_status::complete || r.consumed == 0, "consumed only with complete");
  if (r.status != http::parse_status::complete) {
    return 0;
  }
  check(r.consumed >= 4 && r.consumed <= text.size() && r.consumed <= max_head,
        "the head is within the input");
  check(text.substr(r.consumed - 4, 4) == "\r\n\r\n", "the head ends with CRLFCRLF");
  check_request(req, text, r.consumed);

  // Cut before the end of the head: incomplete. More bytes after it: the same head.
  const std::size_t cut = r.consumed - 1 - in.below(r.consumed);
  http::request partial;
  check(http::parse_request(text.substr(0, cut), partial, max_head).status == http::parse_status::incomplete,
        "a head cut short is incomplete");
  const std::string longer = bytes + "GET / HTTP/1.1\r\n";
  http::request again;
  const http::parse_result r2 = http::parse_request(longer, again, max_head);
  check(r2.status == http::parse_status::complete && r2.consumed == r.consumed,
        "bytes after a head change nothing");

  // Written back, the fields parse to themselves.
  const std::string back = write_back(req);
  http::request reparsed;
  const http::parse_result r3 = http::parse_request(back, reparsed, back.size());
  check(r3.status == http::parse_status::complete && r3.consumed == back.size(),
        "the written-back head parses");
  check(reparsed.method == req.method && reparsed.target == req.target && reparsed.path == req.path &&
            reparsed.query == req.query && reparsed.minor_version == req.minor_version &&
            reparsed.header_count == req.header_count && reparsed.content_length == req.content_length &&
            reparsed.keep_alive == req.keep_alive,
        "the written-back head has the same fields");
  for (std::size_t i = 0; i < req.header_count; ++i) {
    check(
        reparsed.headers[i].name == req.headers[i].name && reparsed.headers[i].value == req.headers[i].value,
        "the written-back fields are the same");
  }

  check_path(req.path);
  if (auto p = http::query_parameter(req.query, "n")) {
    check(inside(*p, req.query), "a query parameter is in the query");
  }
  const http::coding c = http::choose_coding(req);
  check(c == http::coding::identity || c == http::coding::gzip || c == http::coding::deflate, "a coding");
  return 0;
}
