// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TESTS_STREAM_HTTP_DECODERS_HPP
#define SENET_TESTS_STREAM_HTTP_DECODERS_HPP

/* Independent decoders for the output of the HTTP sinks, written for the tests (they share no code
   with the encoders): `decode_chunked` parses HTTP/1.1 chunked transfer coding strictly (RFC 9112
   §7.1), `inflate_all` decodes deflate output with zlib's own `inflate`. And `recording_stream`, a
   write_stream in memory that records each write_some call, takes at most `max_per_call` bytes per
   call, and can fail after a number of bytes; `tcp_peer`, the TCP side of the sinks' conformance
   harnesses. */

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/io/backend_kind.hpp>
#include <senet/io/io_context.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/basic_stream_socket.hpp>
#include <senet/task.hpp>

#include "support/loopback.hpp"
#include "support/run.hpp"

#include <zlib.h>

#include <algorithm>
#include <coroutine>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <vector>

namespace senet::test {

/** The body of a chunked message, or nullopt when `wire` is not exactly one well-formed chunked body
    (a zero-size chunk only at the end, no bytes after it, no trailer fields). `chunk_count` gets
    the number of data chunks. */
inline std::optional<std::string> decode_chunked(std::string_view wire, std::size_t* chunk_count = nullptr) {
  std::string body;
  std::size_t chunks = 0;
  for (;;) {
    std::size_t eol = wire.find("\r\n");
    if (eol == std::string_view::npos || eol == 0 || eol > 16) {
      return std::nullopt;
    }
    std::size_t size = 0;
    for (char c : wire.substr(0, eol)) {
      int digit = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
      if (digit < 0) {
        return std::nullopt;
      }
      size = size * 16 + static_cast<std::size_t>(digit);
    }
    wire.remove_prefix(eol + 2);
    if (size == 0) {
      if (wire != "\r\n") {  // no trailer fields, nothing after the body
        return std::nullopt;
      }
      if (chunk_count != nullptr) {
        *chunk_count = chunks;
      }
      return body;
    }
    if (wire.size() < size + 2 || wire.substr(size, 2) != "\r\n") {
      return std::nullopt;
    }
    body.append(wire.substr(0, size));
    wire.remove_prefix(size + 2);
    ++chunks;
  }
}

/** The data of the complete chunks at the start of `wire`, which may stop between chunks (a body
    still being written); nullopt when it is malformed or stops inside a chunk. `ended` gets whether
    the last chunk (`0\r\n\r\n`) ended it. */
inline std::optional<std::string> decode_chunks(std::string_view wire, bool& ended) {
  ended = false;
  if (wire.empty()) {
    return std::string();
  }
  // The complete chunks are the longest prefix that ends with "\r\n" after a chunk's data: try
  // the whole, then as a body ended by a last chunk appended here.
  if (auto body = decode_chunked(wire)) {
    ended = true;
    return body;
  }
  std::string closed(wire);
  closed += "0\r\n\r\n";
  return decode_chunked(closed);
}

/** `zs` made ready to inflate all of `in`. */
inline void start_inflate(z_stream& zs, std::string_view in, int window_bits) {
  zs = z_stream{};
  if (inflateInit2(&zs, window_bits) != Z_OK) {
    throw std::runtime_error("inflateInit2 failed");
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
}

/** zlib's `inflate` over all of `in`, with `window_bits` as `inflateInit2` takes them (-15 raw
    deflate, 15 zlib, 31 gzip); nullopt unless `in` is exactly one complete stream. */
inline std::optional<std::string> inflate_all(std::string_view in, int window_bits) {
  z_stream zs;
  start_inflate(zs, in, window_bits);
  std::string out;
  int rc = Z_OK;
  while (rc == Z_OK) {
    char buf[4096];
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      break;  // truncated: needs more input
    }
  }
  bool complete = rc == Z_STREAM_END && zs.avail_in == 0;
  inflateEnd(&zs);
  if (!complete) {
    return std::nullopt;
  }
  return out;
}

/** What zlib's `inflate` decodes from a prefix of a stream so far (for a sync-flushed stream that is
    not finished yet). */
inline std::string inflate_prefix(std::string_view in, int window_bits) {
  z_stream zs;
  start_inflate(zs, in, window_bits);
  std::string out;
  for (;;) {
    char buf[4096];
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    int rc = inflate(&zs, Z_SYNC_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
    if (rc != Z_OK || zs.avail_out != 0) {
      break;
    }
  }
  inflateEnd(&zs);
  return out;
}

/** A write_stream in memory: each write_some completes at once, takes at most `max_per_call`
    bytes, is recorded in `calls`, and fails with `fail_with` once `fail_after` bytes are taken. */
struct recording_stream {
  using result = std::tuple<std::error_code, std::size_t>;
  struct awaiter {
    result r;
    [[nodiscard]] bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    [[nodiscard]] result await_resume() const noexcept { return r; }
  };

  std::string data;
  std::vector<std::string> calls;
  std::size_t max_per_call = static_cast<std::size_t>(-1);
  std::size_t fail_after = static_cast<std::size_t>(-1);
  std::error_code fail_with = std::make_error_code(std::errc::connection_reset);

  template <class Buffers>
  awaiter write_some(const Buffers& buffers) {
    if (buffer_size(buffers) == 0) {
      return {result{std::error_code{}, 0}};
    }
    if (data.size() >= fail_after) {
      return {result{fail_with, 0}};
    }
    std::size_t limit = std::min(max_per_call, fail_after - data.size());
    std::string taken;
    for (auto it = buffer_sequence_begin(buffers); it != buffer_sequence_end(buffers) && taken.size() < limit;
         ++it) {
      const_buffer b(*it);
      taken.append(static_cast<const char*>(b.data()), std::min(b.size(), limit - taken.size()));
    }
    data += taken;
    calls.push_back(taken);
    return {result{std::error_code{}, taken.size()}};
  }
};

/** The TCP side of a conformance harness (support/stream_conformance.hpp) for a sink over a socket
    on backend `Kind`: a connected pair; `run` runs the body and then shuts the client's sending side
    down, while the server end collects all it receives in `wire`. The harness adds `stream_type`,
    `stream()` (a sink over `pair.client`) and `received()` (`wire`, decoded). */
template <io::backend_kind Kind>
struct tcp_peer {
  static const char* unavailable() {
    return io::io_context::is_available(Kind) ? nullptr : "backend not available here";
  }
  template <class T>
  T run(senet::task<T> body, bool ends_stream) {
    ends_stream_ = ends_stream;
    auto writer = [&]() -> senet::task<T> {
      T v = co_await std::move(body);
      std::error_code ignored;
      pair.client.shutdown(ip::tcp::socket::shutdown_send, ignored);
      co_return v;
    };
    auto reader = [&]() -> senet::task<void> {
      char buf[16384];
      while (!destination_failed) {
        auto [ec, n] = co_await pair.server.read_some(senet::buffer(buf));
        if (ec) {
          break;
        }
        wire.append(buf, n);
      }
    };
    return senet::test::value_of(ctx, ex::when_all(writer(), reader()));
  }
  void fail_destination() {
    destination_failed = true;
    pair.server.close();
  }
  bool is_destination_error(std::error_code ec) {
    return ec == std::errc::broken_pipe || ec == std::errc::connection_reset;
  }

  io::io_context ctx{Kind};
  ip::tcp::acceptor acceptor{listen_tcp(ip::tcp::v4())};
  stream_pair<ip::tcp> pair{connect_pair(ctx, acceptor)};
  std::string wire;
  bool destination_failed = false;
  bool ends_stream_ = false;
};

}  // namespace senet::test

#endif  // SENET_TESTS_STREAM_HTTP_DECODERS_HPP
