// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_CORO_NET_UDP_PEER_HPP
#define SENET_CORO_NET_UDP_PEER_HPP

#include <senet/coro/io_scheduler.hpp>
#include <senet/coro/net/buffer_concepts.hpp>
#include <senet/coro/net/ip_address.hpp>
#include <senet/coro/net/poll_awaitable.hpp>
#include <senet/coro/net/recv_status.hpp>
#include <senet/coro/net/send_status.hpp>
#include <senet/coro/net/socket.hpp>

#include <chrono>
#include <compare>
#include <cstdint>
#include <memory>
#include <span>
#include <tuple>
#include <utility>

namespace senet::coro::net::udp {

/** A UDP socket, as libcoro 0.15's `coro::net::udp::peer`: it sends datagrams to any peer
    (`sendto`), and, when bound to a local address, receives them (`recvfrom`) after
    `co_await peer.poll(poll_op::read)`.

    IPv4 and IPv6 both work (libcoro's own peer handles only IPv4 addresses): the socket's domain
    is the bound address's, or the one given to the sending constructor; `sendto` to an address of
    the other domain fails with `EAFNOSUPPORT` (an IPv6 peer reaches IPv4 hosts through
    IPv4-mapped addresses, `::ffff:a.b.c.d`). `recvfrom` reports the sender as an address of the
    socket's domain.

    `sendto` and `recvfrom` are one system call each, made at once, and return libcoro's types. A
    datagram longer than the buffer is cut to the buffer's size, as libcoro (and recvfrom(2)) do.
    Copying duplicates the socket. Thread safety: one peer is used by one coroutine at a time.
*/
class peer {
 public:
  /** A peer's address and port. */
  struct info {
    /** The address. */
    net::ip_address address{net::ip_address::from_string("127.0.0.1")};
    /** The port. */
    std::uint16_t port{8080};

    friend bool operator==(const info&, const info&) = default;
    friend std::strong_ordering operator<=>(const info&, const info&) = default;
  };

  /** A peer of `scheduler` that sends datagrams from a socket of `domain` and is not bound
      (`recvfrom` gives `udp_not_bound`). Throws `std::system_error` if the socket cannot be made,
      `std::runtime_error` if `scheduler` is null. */
  explicit peer(std::shared_ptr<io_scheduler> scheduler, net::domain_t domain = net::domain_t::ipv4);

  /** A peer of `scheduler` bound to `bind_info` (port 0: the kernel picks one; `socket()` tells
      which), which sends and receives. Throws `std::system_error` if the address cannot be bound. */
  explicit peer(std::shared_ptr<io_scheduler> scheduler, const info& bind_info);

  peer(const peer&) = default;
  peer(peer&&) noexcept = default;
  peer& operator=(const peer&) = default;
  peer& operator=(peer&&) noexcept = default;
  ~peer() = default;

  /** Waits until the socket is ready for `op`, or `timeout` passes (0: no limit); see
      `poll_awaitable`. An unbound peer never becomes readable. */
  [[nodiscard]] poll_awaitable poll(poll_op op,
                                    std::chrono::milliseconds timeout = std::chrono::milliseconds{0}) {
    return poll_awaitable(*scheduler_, socket_.senet_socket(), op, timeout);
  }

  /** Sends `buffer` as one datagram to `peer_info` and gives the status and the bytes not sent
      (none after `ok`; for an error, libcoro's empty span). An empty `buffer` gives `ok` without
      a system call. */
  template <concepts::const_buffer Buffer>
  std::pair<send_status, std::span<const char>> sendto(const info& peer_info, const Buffer& buffer) {
    return send_to(peer_info, std::span<const char>(buffer.data(), buffer.size()));
  }

  /** Receives one datagram into `buffer` and gives the status, the sender and the bytes (at the
      start of `buffer`): `ok`; `udp_not_bound` on a peer that is not bound; `would_block` when
      none is waiting (poll for `read` first); an errno status. */
  template <concepts::mutable_buffer Buffer>
  std::tuple<recv_status, info, std::span<char>> recvfrom(Buffer&& buffer) {
    return receive_from(std::span<char>(buffer.data(), buffer.size()));
  }

  /** senet: the socket (to read the port the kernel picked, say). */
  [[nodiscard]] const net::socket& socket() const noexcept { return socket_; }

 private:
  [[nodiscard]] std::pair<send_status, std::span<const char>> send_to(const info& peer_info,
                                                                      std::span<const char> buffer) noexcept;
  [[nodiscard]] std::tuple<recv_status, info, std::span<char>> receive_from(std::span<char> buffer) noexcept;

  std::shared_ptr<io_scheduler> scheduler_;
  net::socket socket_;
  bool bound_ = false;
};

}  // namespace senet::coro::net::udp

#endif  // SENET_CORO_NET_UDP_PEER_HPP
