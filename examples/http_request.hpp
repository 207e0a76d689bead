// SPDX-License-Identifier: BSL-1.0
// The HTTP/1.1 request parsing of examples/http_server.cpp: pure functions on bytes, no I/O and no
// allocation, so that a fuzzer can drive them directly (parse_request on any bytes must return,
// and every string_view it gives points into its input, except the path "/" of an absolute-form
// target that has none).
#ifndef SENET_EXAMPLES_HTTP_REQUEST_HPP
#define SENET_EXAMPLES_HTTP_REQUEST_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace example::http {

/** One header field of a request: views into the parsed bytes. */
struct header {
  std::string_view name;
  std::string_view value;  // without leading and trailing whitespace
};

/** A parsed request head (RFC 9112 §3 and §5). Views point into the bytes given to
    `parse_request`, which must outlive them. */
struct request {
  static constexpr std::size_t max_headers = 64;

  std::string_view method;
  std::string_view target;  // as sent (origin-form "/a/b?c", or absolute-form "http://h/a")
  std::string_view path;    // the target's path, still percent-encoded ("/a/b"); a static "/" for
                            // an absolute-form target without one ("http://h")
  std::string_view query;   // after '?', without it ("" if none)
  int minor_version = 1;    // HTTP/1.<minor_version>
  std::array<header, max_headers> headers{};
  std::size_t header_count = 0;
  std::uint64_t content_length = 0;  // 0 when absent
  bool keep_alive = true;            // the connection may serve another request after this one

  /** The value of the first header named `name` (case-insensitive), if any. */
  [[nodiscard]] std::optional<std::string_view> find(std::string_view name) const noexcept;
};

/** What `parse_request` found. */
enum class parse_status {
  complete,               // a whole request head: `consumed` bytes, the body (if any) follows
  incomplete,             // more bytes are needed
  bad_request,            // malformed: answer 400 and close
  headers_too_large,      // longer than the limit, or too many fields: answer 431 and close
  not_implemented,        // a request body in Transfer-Encoding: answer 501 and close
  version_not_supported,  // not HTTP/1.x: answer 505 and close
};

struct parse_result {
  parse_status status;
  std::size_t consumed = 0;  // with `complete`: the size of the head, CRLFCRLF included
};

namespace detail {

inline bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

inline char lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

/** Calls `f(element)` for each element of a comma-separated list (empty elements skipped). */
template <class F>
void for_each_element(std::string_view list, F&& f) {
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    std::string_view element = trim(list.substr(0, comma));
    if (!element.empty()) {
      f(element);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    list.remove_prefix(comma + 1);
  }
}

inline bool has_token(std::string_view list, std::string_view token) {
  bool found = false;
  for_each_element(list, [&](std::string_view e) { found = found || iequals(e, token); });
  return found;
}

}  // namespace detail

inline std::optional<std::string_view> request::find(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < header_count; ++i) {
    if (detail::iequals(headers[i].name, name)) {
      return headers[i].value;
    }
  }
  return std::nullopt;
}

/** Parses the request head at the start of `in` into `req`. Strict where laxness is a known
    request-smuggling hazard: CRLF line ends only, no whitespace before a field's colon, no obsolete
    line folding, one Content-Length value, no Transfer-Encoding; HTTP/1.1 needs exactly one Host.
    A head longer than `max_head` bytes is `headers_too_large`. */
inline parse_result parse_request(std::string_view in, request& req, std::size_t max_head = 8192) {
  std::size_t end = in.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    // A bare LF where CRLF belongs never becomes valid: say so now rather than wait for more.
    for (std::size_t i = 0; i < in.size(); ++i) {
      if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r')) {
        return {parse_status::bad_request};
      }
    }
    return {in.size() >= max_head ? parse_status::headers_too_large : parse_status::incomplete};
  }
  if (end + 4 > max_head) {
    return {parse_status::headers_too_large};
  }
  std::string_view head = in.substr(0, end + 2);  // each line ends with CRLF

  auto next_line = [&head]() -> std::optional<std::string_view> {
    std::size_t eol = head.find("\r\n");
    if (eol == std::string_view::npos) {
      return std::nullopt;
    }
    std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    return line;
  };
  auto has_control = [](std::string_view s) {
    for (char c : s) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
        return true;
      }
    }
    return false;
  };

  // request-line = method SP request-target SP HTTP-version
  std::string_view line = *next_line();
  std::size_t sp1 = line.find(' ');
  std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == 0 || sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return {parse_status::bad_request};
  }
  req.method = line.substr(0, sp1);
  for (char c : req.method) {
    if (!detail::is_tchar(c)) {
      return {parse_status::bad_request};
    }
  }
  req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
      version[5] > '9' || version[7] < '0' || version[7] > '9') {
    return {parse_status::bad_request};
  }
  if (version[5] != '1') {
    return {parse_status::version_not_supported};
  }
  req.minor_version = version[7] - '0';
  if (req.target.empty() || has_control(req.target) || req.target.find('\t') != std::string_view::npos) {
    return {parse_status::bad_request};
  }
  std::string_view target = req.target;
  if (target.substr(0, 7) == "http://" || target.substr(0, 8) == "https://") {
    // absolute-form: the path starts after the authority.
    std::size_t authority = target.find("//") + 2;
    std::size_t slash = target.find('/', authority);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  if (target.front() != '/') {
    return {parse_status::bad_request};  // only origin-form (and absolute-form) name a resource here
  }
  std::size_t question = target.find('?');
  req.path = target.substr(0, question);
  req.query = question == std::string_view::npos ? std::string_view() : target.substr(question + 1);

  // field-line = field-name ":" OWS field-value OWS
  req.header_count = 0;
  req.content_length = 0;
  bool have_length = false;
  int hosts = 0;
  std::optional<std::string_view> connection;
  while (auto field = next_line()) {
    if (field->empty()) {
      break;
    }
    if (field->front() == ' ' || field->front() == '\t') {
      return {parse_status::bad_request};  // obsolete line folding
    }
    std::size_t colon = field->find(':');
    if (colon == 0 || colon == std::string_view::npos) {
      return {parse_status::bad_request};
    }
    std::string_view name = field->substr(0, colon);
    for (char c : name) {
      if (!detail::is_tchar(c)) {
        return {parse_status::bad_request};  // whitespace before the colon included
      }
    }
    std::string_view value = detail::trim(field->substr(colon + 1));
    if (has_control(value)) {
      return {parse_status::bad_request};
    }
    if (req.header_count == request::max_headers) {
      return {parse_status::headers_too_large};
    }
    req.headers[req.header_count++] = {name, value};
    if (detail::iequals(name, "content-length")) {
      if (value.empty() || value.size() > 18) {
        return {parse_status::bad_request};
      }
      std::uint64_t n = 0;
      for (char c : value) {
        if (c < '0' || c > '9') {
          return {parse_status::bad_request};
        }
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
      }
      if (have_length && n != req.content_length) {
        return {parse_status::bad_request};
      }
      have_length = true;
      req.content_length = n;
    } else if (detail::iequals(name, "transfer-encoding")) {
      return {have_length ? parse_status::bad_request : parse_status::not_implemented};
    } else if (detail::iequals(name, "host")) {
      ++hosts;
    } else if (detail::iequals(name, "connection")) {
      connection = value;
    }
  }
  if (have_length && req.find("transfer-encoding")) {
    return {parse_status::bad_request};
  }
  if (req.minor_version >= 1 ? hosts != 1 : hosts > 1) {
    return {parse_status::bad_request};
  }
  if (req.minor_version >= 1) {
    req.keep_alive = !(connection && detail::has_token(*connection, "close"));
  } else {
    req.keep_alive = connection && detail::has_token(*connection, "keep-alive");
  }
  return {parse_status::complete, end + 4};
}

/** The content coding of a response. */
enum class coding { identity, gzip, deflate };

/** The coding to answer with, from the request's Accept-Encoding (RFC 9110 §12.5.3): gzip or
    deflate (gzip on a tie) when one is acceptable with a q-value above 0, else identity. */
inline coding choose_coding(const request& req) {
  double gzip = 0;
  double deflate = 0;
  std::optional<double> any;
  bool gzip_named = false;
  bool deflate_named = false;
  for (std::size_t i = 0; i < req.header_count; ++i) {
    if (!detail::iequals(req.headers[i].name, "accept-encoding")) {
      continue;
    }
    detail::for_each_element(req.headers[i].value, [&](std::string_view element) {
      std::size_t semi = element.find(';');
      std::string_view name = detail::trim(element.substr(0, semi));
      double q = 1;
      if (semi != std::string_view::npos) {
        std::string_view param = detail::trim(element.substr(semi + 1));
        if (param.size() >= 2 && detail::lower(param[0]) == 'q' && param[1] == '=') {
          std::string text(param.substr(2));
          char* stop = nullptr;
          q = std::strtod(text.c_str(), &stop);
          if (stop == text.c_str() || q < 0 || q > 1) {
            q = 0;  // an invalid q-value makes the coding unacceptable
          }
        }
      }
      if (detail::iequals(name, "gzip") || detail::iequals(name, "x-gzip")) {
        gzip = q;
        gzip_named = true;
      } else if (detail::iequals(name, "deflate")) {
        deflate = q;
        deflate_named = true;
      } else if (name == "*") {
        any = q;
      }
    });
  }
  if (any) {
    gzip = gzip_named ? gzip : *any;
    deflate = deflate_named ? deflate : *any;
  }
  if (gzip > 0 && gzip >= deflate) {
    return coding::gzip;
  }
  if (deflate > 0) {
    return coding::deflate;
  }
  return coding::identity;
}

/** The file path a request path names, relative to the served directory, into `out`: percent-
    decoded, "." and empty segments dropped. False when it cannot name a file below the directory:
    a ".." segment (after decoding, so "%2e%2e" too), a NUL byte, or a bad escape. */
inline bool resolve_path(std::string_view path, std::string& out) {
  std::string decoded;
  for (std::size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%') {
      auto hex = [](char h) {
        return h >= '0' && h <= '9'   ? h - '0'
               : h >= 'a' && h <= 'f' ? h - 'a' + 10
               : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                      : -1;
      };
      if (i + 2 >= path.size()) {
        return false;
      }
      int hi = hex(path[i + 1]);
      int lo = hex(path[i + 2]);
      if (hi < 0 || lo < 0) {
        return false;
      }
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0') {
      return false;
    }
    decoded += c;
  }
  out.clear();
  std::string_view rest = decoded;
  while (!rest.empty()) {
    std::size_t slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (segment.empty() || segment == ".") {
      continue;
    }
    if (segment == "..") {
      return false;
    }
    if (!out.empty()) {
      out += '/';
    }
    out += segment;
  }
  return true;
}

/** The value of parameter `name` in a query string ("a=1&n=20"), if present. */
inline std::optional<std::string_view> query_parameter(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    }
    if (amp == std::string_view::npos) {
      break;
    }
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

}  // namespace example::http

#endif  // SENET_EXAMPLES_HTTP_REQUEST_HPP
