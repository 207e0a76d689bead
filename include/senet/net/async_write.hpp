// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_ASYNC_WRITE_HPP
#define SENET_NET_ASYNC_WRITE_HPP

#include <cstddef>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>

#include <senet/buffer.hpp>
#include <senet/execution.hpp>
#include <senet/net/async_write_some.hpp>
#include <senet/net/detail/transfer_all.hpp>

namespace senet::net {

namespace detail {

struct write_some_step {
  using buffer_type = const_buffer;
  /// A senet socket that does not customise `async_write_some`: the transfer is one record (see
  /// transfer_all.hpp).
  template <class Stream>
  static constexpr bool native = io_socket<Stream> && !requires(Stream & s, std::span<const const_buffer> b) {
    s.async_write_some(b);
  };
  static constexpr io::detail::op_code code = io::detail::op_code::send;

  template <class Stream>
  static auto make(Stream& stream, std::span<const const_buffer> buffers) {
    return net::async_write_some(stream, buffers);
  }
  static std::error_code zero_bytes_error() noexcept { return std::make_error_code(std::errc::io_error); }
};

}  // namespace detail

/** A sender that writes all of `buffers` to `stream`, or fails (P2762 §3.6).

    It issues `net::async_write_some(stream, ...)` on the part of `buffers` not yet written, again
    and again, until every byte has been written.

    Completion signatures: `set_value_t(std::size_t)` (always `buffer_size(buffers)`),
    `set_error_t(std::error_code)`, `set_stopped_t()`. Errors are those of `async_write_some`
    (a peer that reset the connection gives `std::errc::broken_pipe` or
    `std::errc::connection_reset`, never SIGPIPE); a step that writes 0 bytes of a non-empty
    window gives `std::errc::io_error`.
    Partial transfer: with the overload taking `std::size_t& transferred`, the operation stores the
    number of bytes written so far in `transferred` after each step, so on `set_error` or
    `set_stopped` it holds the count of bytes that were written (the front of `buffers`).
    Cancellation: the receiver's stop token is passed to each `async_write_some`; a stop request
    cancels the pending write and the operation completes with `set_stopped()`.
    Buffer lifetime: the caller keeps the bytes of `buffers` (and `transferred`) valid until
    completion; the sequence object itself is copied into the sender.
    Thread safety: one write operation at a time per stream (it may run beside one read).
    Allocation: none; writes that complete inline are looped over, never recursed into (on a senet
    socket, once the handler running the write has completed 16 operations at once, the next step
    goes through the io_context's queue, so that a peer that keeps reading cannot keep the
    context's thread from its other work). At most 16 buffers are handed to each step.
    On a senet socket closed, moved or destroyed (on any thread, as `basic_socket` says) between
    two steps, the operation completes with `operation_aborted` (`set_stopped()` after `cancel()`)
    instead of starting the next step; `transferred` holds what was transferred.
*/
struct async_write_t {
  template <class Stream, const_buffer_sequence Buffers>
  auto operator()(Stream& stream, const Buffers& buffers) const {
    return detail::transfer_all_sender<detail::write_some_step, Stream, Buffers>{&stream, buffers, nullptr};
  }
  template <class Stream, const_buffer_sequence Buffers>
  auto operator()(Stream& stream, const Buffers& buffers, std::size_t& transferred) const {
    return detail::transfer_all_sender<detail::write_some_step, Stream, Buffers>{&stream, buffers,
                                                                                 &transferred};
  }
  /// The same on the scheduler `sch`, which is also the I/O scheduler of the steps (P2762 §3.1,
  /// option 1). On a senet socket with a senet scheduler it is the operation of the form above on
  /// `sch`'s context, started as any socket operation is (see basic_socket's thread safety);
  /// otherwise `ex::starts_on(sch, ...)`. Works with the bundled core and with stdexec.
  template <ex::scheduler Sch, class Stream, const_buffer_sequence Buffers>
  auto operator()(Sch sch, Stream& stream, const Buffers& buffers) const {
    return detail::transfer_all_on(std::move(sch), (*this)(stream, buffers));
  }
  template <ex::scheduler Sch, class Stream, const_buffer_sequence Buffers>
  auto operator()(Sch sch, Stream& stream, const Buffers& buffers, std::size_t& transferred) const {
    return detail::transfer_all_on(std::move(sch), (*this)(stream, buffers, transferred));
  }
};

inline constexpr async_write_t async_write{};

}  // namespace senet::net

#endif  // SENET_NET_ASYNC_WRITE_HPP
