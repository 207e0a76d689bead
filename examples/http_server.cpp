// SPDX-License-Identifier: BSL-1.0
// An HTTP/1.1 server written with coroutines (senet::task) and senet's stream sinks: it serves the
// files of a directory, and a generated response streamed through stream::chunked_sink, compressed
// on the fly through stream::deflate_sink when the client accepts gzip or deflate.
//
//   http_server --root DIR [--port N] [--address A] [--backend uring|epoll] [--help]
//
// It listens on A (default 127.0.0.1) port N (default 0: the kernel picks a free port) and prints
// "listening on port N" on stdout. Requests:
//   GET|HEAD /stream?n=N   N lines ("line i of N\n", i from 1), Transfer-Encoding: chunked (HTTP/1.1;
//                          an HTTP/1.0 client gets the body delimited by the connection's end),
//                          Content-Encoding gzip or deflate when Accept-Encoding allows, N <= 10^7
//   GET|HEAD /path         the file DIR/path (index.html for a directory path ending in '/'), with
//                          Content-Length; never outside DIR: ".." segments (also percent-encoded)
//                          are refused with 400, and symbolic links that leave DIR are not followed
//                          (openat2 RESOLVE_BENEATH)
// Errors: 400 (malformed request, bad path or parameter), 403 (no permission), 404 (no such
// file), 405 (other methods; Allow: GET, HEAD), 413 (a request body over 1 MiB), 431 (a request
// head over 8 KiB or 64 fields), 501 (a request body in Transfer-Encoding), 505 (not HTTP/1.x).
// Connections are kept alive (HTTP/1.1 unless "Connection: close"; HTTP/1.0 with
// "Connection: keep-alive"), requests may be pipelined, and an idle connection is closed after
// 30 s. After a malformed request the server answers, closes its sending side and drains what the
// client still sends for a moment, so that the answer is not lost to a reset.
//
// It keeps serving when accept fails for want of resources (too many open files, no memory), and
// SIGINT or SIGTERM stop it cleanly (exit status 0): see examples/coro_server.hpp, shared with
// examples/echo_server_coro.cpp. Files are read with pread on the event loop's thread (page-cache
// reads; a server of slow disks would read them elsewhere).
#include <senet/buffer.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/timeout.hpp>
#include <senet/stream/any_write_sink.hpp>
#include <senet/stream/chunked_sink.hpp>
#include <senet/stream/deflate_sink.hpp>
#include <senet/stream/socket_sink.hpp>
#include <senet/stream/write_now.hpp>
#include <senet/task.hpp>

#include "coro_server.hpp"
#include "http_request.hpp"
#include "server_options.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

namespace net = senet::net;
namespace stream = senet::stream;
namespace http = example::http;
using senet::ip::tcp;
using namespace std::chrono_literals;

constexpr std::size_t max_head = 8192;
constexpr std::uint64_t max_body = 1 << 20;
constexpr std::uint64_t max_lines = 10'000'000;
constexpr auto idle_timeout = 30s;
constexpr std::size_t body_buffer_size = 64 * 1024;

// ---- files ----

// Opens `rel` (already free of ".." segments) below the directory `root_fd`, refusing symbolic links
// and mounts that lead out of it; -1 with errno set on failure.
int open_beneath(int root_fd, const std::string& rel) {
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how);
  if (fd < 0 && errno == ENOSYS) {
    // Before Linux 5.6: no symbolic link at all in the last component.
    fd = ::openat(root_fd, rel.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
  }
  return static_cast<int>(fd);
}

class file_descriptor {
 public:
  explicit file_descriptor(int fd) noexcept : fd_(fd) {}
  file_descriptor(const file_descriptor&) = delete;
  file_descriptor& operator=(const file_descriptor&) = delete;
  ~file_descriptor() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  [[nodiscard]] int get() const noexcept { return fd_; }

 private:
  int fd_;
};

std::string_view content_type(std::string_view path) {
  std::size_t dot = path.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  if (ext == "html" || ext == "htm") {
    return "text/html; charset=utf-8";
  }
  if (ext == "txt") {
    return "text/plain; charset=utf-8";
  }
  if (ext == "css") {
    return "text/css";
  }
  if (ext == "js") {
    return "text/javascript";
  }
  if (ext == "json") {
    return "application/json";
  }
  if (ext == "png") {
    return "image/png";
  }
  if (ext == "jpg" || ext == "jpeg") {
    return "image/jpeg";
  }
  if (ext == "svg") {
    return "image/svg+xml";
  }
  return "application/octet-stream";
}

// ---- responses ----

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Internal Server Error";
  }
}

// Starts a response head in `out` (reused across responses: no allocation once it has grown).
void start_head(std::string& out, int status, bool keep_alive) {
  out.clear();
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reason(status);
  out += "\r\nServer: senet-example\r\n";
  if (!keep_alive) {
    out += "Connection: close\r\n";
  }
}

// The state of one connection: the socket, its buffers and the sinks its responses go through,
// made once and reused by every request on the connection.
struct connection {
  explicit connection(tcp::socket&& s) : socket(std::move(s)) { head.reserve(512); }

  tcp::socket socket;
  std::array<char, max_head> in{};
  std::size_t have = 0;  // bytes of `in` received and not consumed
  std::string head;      // the response head being built
  std::unique_ptr<char[]> body = std::make_unique<char[]>(body_buffer_size);
  stream::write_now<tcp::socket> out{socket};
  // HTTP/1.1 bodies of unknown length: chunked, gzip or deflate over chunked (each deflate sink
  // holds zlib's state, some 256 KiB: made on first use, reset for the next response).
  stream::chunked_sink<tcp::socket> chunked{socket};
  std::optional<stream::deflate_sink<stream::chunked_sink<tcp::socket>>> gzip_chunked;
  std::optional<stream::deflate_sink<stream::chunked_sink<tcp::socket>>> zlib_chunked;
  // HTTP/1.0 bodies of unknown length end with the connection: socket_sink's write_eof shuts the
  // sending side down.
  stream::socket_sink<tcp::socket> raw{socket};
  std::optional<stream::deflate_sink<stream::socket_sink<tcp::socket>>> compressed_raw;
  // The same sinks behind one type, for the code that writes a body (made with their sink).
  std::optional<stream::any_write_sink> chunked_body;
  std::optional<stream::any_write_sink> gzip_chunked_body;
  std::optional<stream::any_write_sink> zlib_chunked_body;
  std::optional<stream::any_write_sink> raw_body;
  std::optional<stream::any_write_sink> compressed_raw_body;

  // The sink of a body of unknown length, ready for a new body: chunked (HTTP/1.1) or ended by the
  // connection (HTTP/1.0), compressed in `coding`.
  stream::any_write_sink& body_sink(http::coding coding, bool use_chunked) {
    // HTTP's "deflate" is the zlib format (RFC 9110 §8.4.1.2).
    stream::deflate_options options{.format = coding == http::coding::gzip ? stream::deflate_format::gzip
                                                                           : stream::deflate_format::zlib};
    if (!use_chunked) {
      if (coding == http::coding::identity) {
        return make(raw_body, raw);
      }
      compressed_raw_body.reset();
      compressed_raw.emplace(raw, options);  // once per connection: it ends with this body
      compressed_raw_body.emplace(*compressed_raw);
      return *compressed_raw_body;
    }
    chunked.reset();
    if (coding == http::coding::identity) {
      return make(chunked_body, chunked);
    }
    auto& sink = coding == http::coding::gzip ? gzip_chunked : zlib_chunked;
    auto& body = coding == http::coding::gzip ? gzip_chunked_body : zlib_chunked_body;
    if (sink) {
      sink->reset();
    } else {
      sink.emplace(chunked, options);
    }
    return make(body, *sink);
  }

  template <class Sink>
  static stream::any_write_sink& make(std::optional<stream::any_write_sink>& body, Sink& sink) {
    if (!body) {
      body.emplace(sink);
    }
    return *body;
  }
};

// Writes a whole response (`conn.head` + `body`); false when the connection failed.
senet::task<bool> send(connection& conn, std::string_view body = {}) {
  std::array<senet::const_buffer, 2> parts{senet::buffer(conn.head), senet::buffer(body.data(), body.size())};
  auto [ec, n] = co_await conn.out(parts);
  co_return !ec;
}

// A short text response for `status`; false when the connection failed.
senet::task<bool> send_status(connection& conn, int status, bool keep_alive, bool head_only,
                              std::string_view extra_fields = {}) {
  std::string text = std::to_string(status) + ' ' + reason(status) + '\n';
  start_head(conn.head, status, keep_alive);
  conn.head += "Content-Type: text/plain; charset=utf-8\r\nContent-Length: ";
  conn.head += std::to_string(text.size());
  conn.head += "\r\n";
  conn.head += extra_fields;
  conn.head += "\r\n";
  co_return co_await send(conn, head_only ? std::string_view() : std::string_view(text));
}

// Writes "line i of n\n" for i in 1..n to `body`, in writes of up to a body buffer, the last one
// with write_eof (so that a chunked sink ends the body, and a deflate sink finishes its stream, in
// the same system call as the last data). It does not know how the body is framed or encoded.
senet::task<std::error_code> write_lines(stream::any_write_sink& body, std::uint64_t n, char* buf) {
  std::size_t used = 0;
  for (std::uint64_t i = 1; i <= n; ++i) {
    char line[64];
    int len = std::snprintf(line, sizeof line, "line %llu of %llu\n", static_cast<unsigned long long>(i),
                            static_cast<unsigned long long>(n));
    if (used + static_cast<std::size_t>(len) > body_buffer_size) {
      auto [ec, written] = co_await body.write(senet::buffer(buf, used));
      if (ec) {
        co_return ec;
      }
      used = 0;
    }
    std::memcpy(buf + used, line, static_cast<std::size_t>(len));
    used += static_cast<std::size_t>(len);
  }
  auto [ec, written] = co_await body.write_eof(senet::buffer(buf, used));
  co_return ec;
}

// GET|HEAD /stream?n=N; false when the connection must close.
senet::task<bool> serve_stream(connection& conn, const http::request& req, bool head_only) {
  auto param = http::query_parameter(req.query, "n");
  std::uint64_t n = 0;
  bool valid = param && !param->empty() && param->size() <= 8;
  for (char c : param.value_or("")) {
    valid = valid && c >= '0' && c <= '9';
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (!valid || n > max_lines) {
    co_return co_await send_status(conn, 400, req.keep_alive, head_only) && req.keep_alive;
  }
  http::coding coding = http::choose_coding(req);
  bool chunked = req.minor_version >= 1;
  bool keep_alive = req.keep_alive && chunked;  // an HTTP/1.0 body ends with the connection
  start_head(conn.head, 200, keep_alive);
  conn.head += "Content-Type: text/plain; charset=utf-8\r\nVary: Accept-Encoding\r\n";
  if (chunked) {
    conn.head += "Transfer-Encoding: chunked\r\n";
  }
  if (coding == http::coding::gzip) {
    conn.head += "Content-Encoding: gzip\r\n";
  } else if (coding == http::coding::deflate) {
    conn.head += "Content-Encoding: deflate\r\n";
  }
  conn.head += "\r\n";
  if (!co_await send(conn)) {
    co_return false;
  }
  if (head_only) {
    co_return keep_alive;
  }
  std::error_code ec = co_await write_lines(conn.body_sink(coding, chunked), n, conn.body.get());
  co_return !ec && keep_alive;
}

// GET|HEAD of a file; false when the connection must close.
senet::task<bool> serve_file(connection& conn, int root_fd, const http::request& req, bool head_only) {
  std::string rel;
  if (!http::resolve_path(req.path, rel)) {
    co_return co_await send_status(conn, 400, req.keep_alive, head_only) && req.keep_alive;
  }
  if (rel.empty() || req.path.back() == '/') {
    rel += rel.empty() ? "index.html" : "/index.html";
  }
  file_descriptor file(open_beneath(root_fd, rel));
  struct stat st {};
  int status = 200;
  if (file.get() < 0) {
    status = errno == EACCES                                                           ? 403
             : errno == ENOENT || errno == ENOTDIR || errno == EXDEV || errno == ELOOP ? 404
                                                                                       : 500;
  } else if (::fstat(file.get(), &st) != 0) {
    status = 500;
  } else if (!S_ISREG(st.st_mode)) {
    status = 404;
  }
  if (status != 200) {
    co_return co_await send_status(conn, status, req.keep_alive, head_only) && req.keep_alive;
  }
  auto size = static_cast<std::uint64_t>(st.st_size);
  start_head(conn.head, 200, req.keep_alive);
  conn.head += "Content-Type: ";
  conn.head += content_type(rel);
  conn.head += "\r\nContent-Length: ";
  conn.head += std::to_string(size);
  conn.head += "\r\n\r\n";
  if (head_only) {
    co_return co_await send(conn) && req.keep_alive;
  }
  // The head leaves with the first block of the file, in one gather write.
  std::uint64_t offset = 0;
  bool first = true;
  while (first || offset < size) {
    ssize_t got = 0;
    if (offset < size) {
      got = ::pread(file.get(), conn.body.get(), body_buffer_size, static_cast<off_t>(offset));
      if (got <= 0) {
        // The file shrank or cannot be read: the promised length cannot be kept, so the
        // connection ends (the client sees a short body).
        std::fprintf(stderr, "http server: reading %s: %s\n", rel.c_str(),
                     got < 0 ? std::strerror(errno) : "short file");
        co_return false;
      }
    }
    std::string_view head = first ? std::string_view(conn.head) : std::string_view();
    std::array<senet::const_buffer, 2> parts{senet::buffer(head.data(), head.size()),
                                             senet::buffer(conn.body.get(), static_cast<std::size_t>(got))};
    auto [ec, n] = co_await conn.out(parts);
    if (ec) {
      co_return false;
    }
    offset += static_cast<std::uint64_t>(got);
    first = false;
  }
  co_return req.keep_alive;
}

// Reads more of the request into conn.in (at most what fits); 0 at the end of the stream, on an
// error, or when the connection stayed idle for idle_timeout.
senet::task<std::size_t> receive(connection& conn, char* data, std::size_t size) {
  try {
    co_return co_await net::timeout(net::async_receive(conn.socket, senet::buffer(data, size)), idle_timeout);
  } catch (const std::system_error&) {
    co_return 0;  // timed out, reset: the connection just ends
  }
}

// Ends a connection after an answer the client may not expect (an error before its request was
// read whole): closes the sending side, then reads and drops what the client still sends, for at
// most a few seconds, so that closing does not reset the connection before it read the answer.
senet::task<void> linger_close(connection& conn) {
  std::error_code ignored;
  conn.socket.shutdown(tcp::socket::shutdown_send, ignored);
  for (int i = 0; i < 64; ++i) {
    try {
      std::size_t n = co_await net::timeout(
          net::async_receive(conn.socket, senet::buffer(conn.body.get(), body_buffer_size)), 2s);
      if (n == 0) {
        break;
      }
    } catch (const std::system_error&) {
      break;
    }
  }
}

// One connection: requests, one after the other, until the client or an error ends it.
senet::task<void> session(tcp::socket s, int root_fd) {
  connection conn(std::move(s));
  for (;;) {
    http::request req;
    http::parse_result parsed{};
    for (;;) {
      parsed = http::parse_request({conn.in.data(), conn.have}, req, max_head);
      if (parsed.status != http::parse_status::incomplete) {
        break;
      }
      std::size_t n = co_await receive(conn, conn.in.data() + conn.have, conn.in.size() - conn.have);
      if (n == 0) {
        co_return;
      }
      conn.have += n;
    }
    int error = 0;
    switch (parsed.status) {
      case http::parse_status::complete:
        break;
      case http::parse_status::headers_too_large:
        error = 431;
        break;
      case http::parse_status::not_implemented:
        error = 501;
        break;
      case http::parse_status::version_not_supported:
        error = 505;
        break;
      default:
        error = 400;
        break;
    }
    if (error == 0 && req.content_length > max_body) {
      error = 413;
    }
    if (error != 0) {
      if (co_await send_status(conn, error, false, false)) {
        co_await linger_close(conn);
      }
      co_return;
    }
    // The request body (accepted, not used): drop it, from the buffer and then from the socket.
    std::size_t after_head = conn.have - parsed.consumed;
    std::uint64_t body_left = req.content_length;
    std::size_t body_in_buffer = static_cast<std::size_t>(std::min<std::uint64_t>(body_left, after_head));
    body_left -= body_in_buffer;
    while (body_left > 0) {
      std::size_t n =
          co_await receive(conn, conn.body.get(),
                           static_cast<std::size_t>(std::min<std::uint64_t>(body_left, body_buffer_size)));
      if (n == 0) {
        co_return;
      }
      body_left -= n;
    }

    bool head_only = req.method == "HEAD";
    bool keep_alive = req.keep_alive;
    if (req.method != "GET" && !head_only) {
      keep_alive =
          co_await send_status(conn, 405, req.keep_alive, false, "Allow: GET, HEAD\r\n") && keep_alive;
    } else if (req.path == "/stream") {
      keep_alive = co_await serve_stream(conn, req, head_only);
    } else {
      keep_alive = co_await serve_file(conn, root_fd, req, head_only);
    }
    if (!keep_alive) {
      co_return;  // the socket closes with the frame (after write_eof's shutdown, for HTTP/1.0)
    }
    // A pipelined request may follow in the buffer.
    std::size_t used = parsed.consumed + body_in_buffer;
    std::memmove(conn.in.data(), conn.in.data() + used, conn.have - used);
    conn.have -= used;
  }
}

// Takes "--root DIR" out of the arguments; the rest are the servers' common options.
std::optional<std::string> take_root(std::vector<char*>& args) {
  std::optional<std::string> root;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (std::string_view(args[i]) == "--root" && i + 1 < args.size()) {
      root = args[i + 1];
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i),
                 args.begin() + static_cast<std::ptrdiff_t>(i) + 2);
      break;
    }
  }
  return root;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args(argv, argv + argc);
  std::optional<std::string> root = take_root(args);
  std::optional<example::options> opts =
      example::parse(static_cast<int>(args.size()), args.data(), "http_server");
  if (!opts || !root) {
    if (opts) {
      std::fprintf(stderr, "http_server needs --root DIR, the directory to serve\n");
    }
    example::usage(stderr, "http_server --root DIR");
    return 2;
  }
  int root_fd = ::open(root->c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) {
    std::fprintf(stderr, "http_server: cannot open directory %s: %s\n", root->c_str(), std::strerror(errno));
    return 2;
  }
  file_descriptor root_guard(root_fd);
  return example::run_server(*opts, "http server",
                             [root_fd](tcp::socket s) { return session(std::move(s), root_fd); });
}
