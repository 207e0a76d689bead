// SPDX-License-Identifier: BSL-1.0
#include <senet/coro/net/tcp/server.hpp>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <utility>

namespace senet::coro::net::tcp {

namespace {

std::shared_ptr<io_scheduler> checked(std::shared_ptr<io_scheduler> scheduler) {
  if (scheduler == nullptr) {
    throw std::runtime_error("senet::coro::net::tcp::server cannot have a null io_scheduler");
  }
  return scheduler;
}

}  // namespace

server::server(std::shared_ptr<io_scheduler> scheduler, options opts)
    : scheduler_(checked(std::move(scheduler))),
      options_(opts),
      accept_socket_(net::make_accept_socket({.domain = opts.address.domain(),
                                              .type = net::socket::type_t::tcp,
                                              .blocking = net::socket::blocking_t::no},
                                             opts.address, opts.port, opts.backlog)) {}

client server::accept() {
  detail::ip_socket peer;
  detail::ip_protocol::endpoint from;
  std::error_code ec;
  accept_socket_.senet_socket().accept(peer, &from, ec);
  if (ec) {
    errno = detail::errno_of(ec);  // libcoro's callers read errno after an invalid client
    return client(scheduler_, net::socket{}, client::options{});
  }
  return client(scheduler_, net::socket(std::move(peer)),
                client::options{.address = net::ip_address(from.address()), .port = from.port()});
}

}  // namespace senet::coro::net::tcp
