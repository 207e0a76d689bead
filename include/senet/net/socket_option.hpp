// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_NET_SOCKET_OPTION_HPP
#define SENET_NET_SOCKET_OPTION_HPP

#include <sys/socket.h>

#include <cstddef>

/** Typed socket options, as `setsockopt(2)` / `getsockopt(2)` see them.

    Each option class models Asio's *SettableSocketOption* / *GettableSocketOption*: for a protocol
    `p` it provides `level(p)`, `name(p)`, `data(p)`, `size(p)` and `resize(p, n)`, so that
    `basic_socket::set_option` / `get_option` can pass it to the kernel without knowing it. A
    user-defined option class with the same members works too. The usual instances are named in
    `senet::net::socket_base` (`socket_base::reuse_address{true}` and so on).
*/
namespace senet::net::socket_option {

namespace detail {

/** What every option class shares: its level and name, and `value` as the bytes the kernel reads
    and writes. */
template <int Level, int Name, class T>
class option_base {
 public:
  template <class Protocol>
  [[nodiscard]] constexpr int level(const Protocol&) const noexcept {
    return Level;
  }
  template <class Protocol>
  [[nodiscard]] constexpr int name(const Protocol&) const noexcept {
    return Name;
  }
  template <class Protocol>
  [[nodiscard]] void* data(const Protocol&) noexcept {
    return &value_;
  }
  template <class Protocol>
  [[nodiscard]] const void* data(const Protocol&) const noexcept {
    return &value_;
  }
  template <class Protocol>
  [[nodiscard]] constexpr std::size_t size(const Protocol&) const noexcept {
    return sizeof(value_);
  }

 protected:
  constexpr option_base() noexcept = default;
  constexpr explicit option_base(T v) noexcept : value_(v) {}

  T value_{};
};

}  // namespace detail

/** An option whose value is a boolean carried as an `int` (`SO_REUSEADDR`, `TCP_NODELAY`, ...).

    Example: `sock.set_option(socket_base::reuse_address{true});`
*/
template <int Level, int Name>
class boolean : public detail::option_base<Level, Name, int> {
  using base = detail::option_base<Level, Name, int>;
  using base::value_;

 public:
  constexpr boolean() noexcept = default;
  constexpr explicit boolean(bool v) noexcept : base(v ? 1 : 0) {}

  constexpr boolean& operator=(bool v) noexcept {
    value_ = v ? 1 : 0;
    return *this;
  }
  /// The option's value.
  [[nodiscard]] constexpr bool value() const noexcept { return value_ != 0; }
  constexpr explicit operator bool() const noexcept { return value_ != 0; }
  constexpr bool operator!() const noexcept { return value_ == 0; }

  /// Called by `get_option` with the size the kernel wrote; some options are reported as one byte.
  template <class Protocol>
  void resize(const Protocol&, std::size_t n) noexcept {
    if (n == sizeof(char)) {
      value_ = (*reinterpret_cast<unsigned char*>(&value_) != 0) ? 1 : 0;
    }
  }
};

/** An option whose value is an `int` (`SO_SNDBUF`, `SO_RCVBUF`, ...).

    Note that Linux doubles the buffer sizes it is given, and reports the doubled value.
*/
template <int Level, int Name>
class integer : public detail::option_base<Level, Name, int> {
  using base = detail::option_base<Level, Name, int>;
  using base::value_;

 public:
  constexpr integer() noexcept = default;
  constexpr explicit integer(int v) noexcept : base(v) {}

  constexpr integer& operator=(int v) noexcept {
    value_ = v;
    return *this;
  }
  /// The option's value.
  [[nodiscard]] constexpr int value() const noexcept { return value_; }

  template <class Protocol>
  constexpr void resize(const Protocol&, std::size_t) noexcept {}
};

/** `SO_LINGER`: whether `close` waits for unsent data, and for how many seconds.

    Example: `sock.set_option(socket_base::linger{true, 0});` makes `close` reset the connection.
*/
class linger : public detail::option_base<SOL_SOCKET, SO_LINGER, ::linger> {
 public:
  constexpr linger() noexcept = default;
  constexpr linger(bool enabled, int timeout_seconds) noexcept
      : option_base(::linger{enabled ? 1 : 0, timeout_seconds}) {}

  [[nodiscard]] constexpr bool enabled() const noexcept { return value_.l_onoff != 0; }
  constexpr void enabled(bool v) noexcept { value_.l_onoff = v ? 1 : 0; }
  /// The linger time in seconds.
  [[nodiscard]] constexpr int timeout() const noexcept { return value_.l_linger; }
  constexpr void timeout(int seconds) noexcept { value_.l_linger = seconds; }

  template <class Protocol>
  constexpr void resize(const Protocol&, std::size_t) noexcept {}
};

}  // namespace senet::net::socket_option

#endif  // SENET_NET_SOCKET_OPTION_HPP
