// SPDX-License-Identifier: BSL-1.0
// A program built against an installed senet with senet::deflate (find_package(senet COMPONENTS
// deflate), or pkg-config senet-deflate; tests/package/check.cmake): it compresses through
// senet/stream/deflate_sink.hpp into memory and decodes the result with zlib.
#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/stream/deflate_sink.hpp>
#include <senet/task.hpp>

#include <zlib.h>

#include <coroutine>
#include <cstdio>
#include <string>
#include <system_error>
#include <tuple>

namespace {

// A write_stream in memory: every write_some takes everything at once.
struct memory_stream {
  std::string data;
  struct awaiter {
    std::tuple<std::error_code, std::size_t> r;
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    std::tuple<std::error_code, std::size_t> await_resume() const noexcept { return r; }
  };
  template <class Buffers>
  awaiter write_some(const Buffers& buffers) {
    std::size_t n = 0;
    for (auto it = senet::buffer_sequence_begin(buffers); it != senet::buffer_sequence_end(buffers); ++it) {
      senet::const_buffer b(*it);
      data.append(static_cast<const char*>(b.data()), b.size());
      n += b.size();
    }
    return {{std::error_code{}, n}};
  }
};

senet::task<std::error_code> compress(memory_stream& out, const std::string& text) {
  senet::stream::deflate_sink z(out, {.format = senet::stream::deflate_format::zlib});
  auto [ec, n] = co_await z.write_eof(senet::buffer(text));
  co_return ec;
}

}  // namespace

int main() {
  std::string text;
  for (int i = 0; i < 1000; ++i) {
    text += "senet::deflate from an installed package\n";
  }
  memory_stream out;
  auto [ec] = senet::ex::sync_wait(compress(out, text)).value();
  std::string back(text.size() + 1, '\0');
  uLongf size = static_cast<uLongf>(back.size());
  int rc = uncompress(reinterpret_cast<Bytef*>(back.data()), &size,
                      reinterpret_cast<const Bytef*>(out.data.data()), static_cast<uLong>(out.data.size()));
  bool ok = !ec && rc == Z_OK && size == text.size() && back.compare(0, size, text) == 0;
  std::printf("senet::deflate: %s (%zu bytes into %zu)\n", ok ? "round trip" : "FAILED", text.size(),
              out.data.size());
  return ok ? 0 : 1;
}
