// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TESTS_STREAM_ARCHETYPES_HPP
#define SENET_TESTS_STREAM_ARCHETYPES_HPP

/* Minimal types for the concept tests: awaiters that are ready at once, and streams and sinks
   built from them, each missing or breaking one requirement where a test needs it. */

#include <senet/buffer.hpp>

#include <coroutine>
#include <cstddef>
#include <system_error>
#include <tuple>

namespace senet::test::stream_archetypes {

template <class R>
struct ready_awaiter {
  R result;
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  R await_resume() const noexcept { return result; }
};
struct void_awaiter {
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  void await_resume() const noexcept {}
};

using size_result = std::tuple<std::error_code, std::size_t>;
using ec_result = std::tuple<std::error_code>;

struct reader {
  template <class Buffers>
  ready_awaiter<size_result> read_some(const Buffers&) {
    return {};
  }
};
struct source : reader {
  template <class Buffers>
  ready_awaiter<size_result> read(const Buffers&) {
    return {};
  }
};
struct writer {
  template <class Buffers>
  ready_awaiter<size_result> write_some(const Buffers&) {
    return {};
  }
};
struct sink : writer {
  template <class Buffers>
  ready_awaiter<size_result> write(const Buffers&) {
    return {};
  }
  template <class Buffers>
  ready_awaiter<size_result> write_eof(const Buffers&) {
    return {};
  }
  ready_awaiter<ec_result> write_eof() { return {}; }
};

// Broken on purpose.
struct reader_returning_size {  // not an error_code pair
  template <class Buffers>
  ready_awaiter<std::size_t> read_some(const Buffers&) {
    return {};
  }
};
struct writer_single_buffer_only {  // no range of buffers
  ready_awaiter<size_result> write_some(senet::const_buffer) { return {}; }
};
struct sink_without_bare_eof : writer {
  template <class Buffers>
  ready_awaiter<size_result> write(const Buffers&) {
    return {};
  }
  template <class Buffers>
  ready_awaiter<size_result> write_eof(const Buffers&) {
    return {};
  }
};
struct sink_with_wrong_eof_result : sink {
  using sink::write_eof;
  ready_awaiter<size_result> write_eof() { return {}; }
};

}  // namespace senet::test::stream_archetypes

#endif  // SENET_TESTS_STREAM_ARCHETYPES_HPP
