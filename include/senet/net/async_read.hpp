// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_ASYNC_READ_HPP
#define SENET_NET_ASYNC_READ_HPP

#include <cstddef>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/net/async_read_some.hpp>
#include <senet/net/detail/transfer_all.hpp>

namespace senet::net {

namespace detail {

struct read_some_step {
  using buffer_type = mutable_buffer;
  /// A senet socket that does not customise `async_read_some`: the transfer is one record (see
  /// transfer_all.hpp).
  template <class Stream>
  static constexpr bool native =
      io_socket<Stream> && !requires(Stream & s, std::span<const mutable_buffer> b) {
    s.async_read_some(b);
  };
  static constexpr io::detail::op_code code = io::detail::op_code::receive;

  template <class Stream>
  static auto make(Stream& stream, std::span<const mutable_buffer> buffers) {
    return net::async_read_some(stream, buffers);
  }
  static std::error_code zero_bytes_error() noexcept { return make_error_code(senet::error::eof); }
};

}  // namespace detail

/** A sender that reads from `stream` until `buffers` are full, or fails (P2762 §3.6).

    It issues `net::async_read_some(stream, ...)` on the part of `buffers` not yet filled, again
    and again, until every byte of `buffers` has been read.

    Completion signatures: `set_value_t(std::size_t)` (always `buffer_size(buffers)`),
    `set_error_t(std::error_code)`, `set_stopped_t()`. If the stream ends first (a read returns 0
    bytes), the error is `senet::error::eof`; other errors are those of `async_read_some`.
    Partial transfer: with the overload taking `std::size_t& transferred`, the operation stores the
    number of bytes read so far in `transferred` after each step, so on `set_error` or
    `set_stopped` it holds the count of bytes that did arrive (they are at the front of `buffers`).
    Cancellation: the receiver's stop token is passed to each `async_read_some`; a stop request
    cancels the pending read and the operation completes with `set_stopped()`.
    Buffer lifetime: the caller keeps the bytes of `buffers` (and `transferred`) valid until
    completion; the sequence object itself is copied into the sender.
    Thread safety: one read operation at a time per stream (it may run beside one write).
    Allocation: none; reads that complete inline are looped over, never recursed into (on a senet
    socket, once the handler running the read has completed 16 operations at once, the next step
    goes through the io_context's queue, so that a peer that keeps sending cannot keep the
    context's thread from its other work). At most 16 buffers are handed to each step.
    On a senet socket closed, moved or destroyed (on any thread, as `basic_socket` says) between
    two steps, the operation completes with `operation_aborted` (`set_stopped()` after `cancel()`)
    instead of starting the next step; `transferred` holds what was transferred.
*/
struct async_read_t {
  template <class Stream, mutable_buffer_sequence Buffers>
  auto operator()(Stream& stream, const Buffers& buffers) const {
    return detail::transfer_all_sender<detail::read_some_step, Stream, Buffers>{&stream, buffers, nullptr};
  }
  template <class Stream, mutable_buffer_sequence Buffers>
  auto operator()(Stream& stream, const Buffers& buffers, std::size_t& transferred) const {
    return detail::transfer_all_sender<detail::read_some_step, Stream, Buffers>{&stream, buffers,
                                                                                &transferred};
  }
  /// The same on the scheduler `sch`, which is also the I/O scheduler of the steps (P2762 §3.1,
  /// option 1). On a senet socket with a senet scheduler it is the operation of the form above on
  /// `sch`'s context, started as any socket operation is (see basic_socket's thread safety);
  /// otherwise `ex::starts_on(sch, ...)`. Works with the bundled core and with stdexec.
  template <ex::scheduler Sch, class Stream, mutable_buffer_sequence Buffers>
  auto operator()(Sch sch, Stream& stream, const Buffers& buffers) const {
    return detail::transfer_all_on(std::move(sch), (*this)(stream, buffers));
  }
  template <ex::scheduler Sch, class Stream, mutable_buffer_sequence Buffers>
  auto operator()(Sch sch, Stream& stream, const Buffers& buffers, std::size_t& transferred) const {
    return detail::transfer_all_on(std::move(sch), (*this)(stream, buffers, transferred));
  }
};

inline constexpr async_read_t async_read{};

}  // namespace senet::net

#endif  // SENET_NET_ASYNC_READ_HPP
