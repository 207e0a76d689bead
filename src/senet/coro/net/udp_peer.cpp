// SPDX-License-Identifier: BSL-1.0
#include <senet/coro/net/udp/peer.hpp>

#include <netinet/in.h>

#include <algorithm>

#include <stdexcept>
#include <utility>

namespace senet::coro::net::udp {

namespace {

std::shared_ptr<io_scheduler> checked(std::shared_ptr<io_scheduler> scheduler) {
  if (scheduler == nullptr) {
    throw std::runtime_error("senet::coro::net::udp::peer cannot have a null io_scheduler");
  }
  return scheduler;
}

}  // namespace

peer::peer(std::shared_ptr<io_scheduler> scheduler, net::domain_t domain)
    : scheduler_(checked(std::move(scheduler))),
      socket_(net::make_socket(
          {.domain = domain, .type = net::socket::type_t::udp, .blocking = net::socket::blocking_t::no})) {}

peer::peer(std::shared_ptr<io_scheduler> scheduler, const info& bind_info)
    : scheduler_(checked(std::move(scheduler))),
      socket_(net::make_accept_socket({.domain = bind_info.address.domain(),
                                       .type = net::socket::type_t::udp,
                                       .blocking = net::socket::blocking_t::no},
                                      bind_info.address, bind_info.port)),
      bound_(true) {}

std::pair<send_status, std::span<const char>> peer::send_to(const info& peer_info,
                                                            std::span<const char> buffer) noexcept {
  if (buffer.empty()) {
    return {send_status::ok, std::span<const char>{}};
  }
  detail::ip_protocol::endpoint to(peer_info.address.to_address(), peer_info.port);
  std::error_code ec;
  if (to.family() != socket_.senet_socket().protocol().family() && socket_.is_valid()) {
    return {static_cast<send_status>(EAFNOSUPPORT), std::span<const char>{}};
  }
  std::size_t n = socket_.senet_socket().send_message(senet::const_buffer(buffer.data(), buffer.size()),
                                                      senet::net::message_flags{}, &to, ec);
  if (ec) {
    return {static_cast<send_status>(detail::errno_of(ec)), std::span<const char>{}};
  }
  return {send_status::ok, buffer.subspan(n)};
}

std::tuple<recv_status, peer::info, std::span<char>> peer::receive_from(std::span<char> buffer) noexcept {
  if (!bound_) {
    return {recv_status::udp_not_bound, info{}, std::span<char>{}};
  }
  detail::ip_protocol::endpoint from;
  std::error_code ec;
  // `truncate`: a datagram longer than the buffer is not an error; its start is kept, as libcoro.
  std::size_t n = socket_.senet_socket().receive_message(senet::mutable_buffer(buffer.data(), buffer.size()),
                                                         senet::net::message_flags::truncate, &from, ec);
  if (ec) {
    return {static_cast<recv_status>(detail::errno_of(ec)), info{}, std::span<char>{}};
  }
  return {recv_status::ok, info{.address = net::ip_address(from.address()), .port = from.port()},
          buffer.first(std::min(n, buffer.size()))};
}

}  // namespace senet::coro::net::udp
