// SPDX-License-Identifier: BSL-1.0
#include <senet/coro/net/tcp/client.hpp>

#include <cerrno>
#include <stdexcept>
#include <utility>

#include <senet/net/async_connect.hpp>

namespace senet::coro::net::tcp {

namespace {

/** The connect: one `net::async_connect` of the client's socket. */
class connect_policy {
 public:
  using result_type = connect_status;

  connect_policy(detail::ip_socket* socket, const detail::ip_protocol::endpoint& peer) noexcept
      : socket_(socket), peer_(peer) {}

  [[nodiscard]] auto make_sender(io::io_context::scheduler_type sch) const {
    return senet::net::async_connect(sch, *socket_, peer_);
  }
  detail::io_step on_value() noexcept {
    status_ = connect_status::connected;
    return detail::io_step::done;
  }
  detail::io_step on_error(const std::error_code& ec) noexcept {
    if (detail::is_timeout(ec)) {
      status_ = connect_status::timeout;
    } else {
      status_ = connect_status::error;
      error_ = ec;
    }
    return detail::io_step::done;
  }
  void on_stopped() noexcept {
    status_ = connect_status::error;
    error_ = std::make_error_code(std::errc::operation_canceled);
  }
  void on_timeout() noexcept { status_ = connect_status::timeout; }
  [[nodiscard]] connect_status result() const noexcept { return status_; }
  [[nodiscard]] std::error_code error() const noexcept { return error_; }

 private:
  detail::ip_socket* socket_;
  detail::ip_protocol::endpoint peer_;
  connect_status status_ = connect_status::error;
  std::error_code error_{};
};

std::shared_ptr<io_scheduler> checked(std::shared_ptr<io_scheduler> scheduler, const char* what) {
  if (scheduler == nullptr) {
    throw std::runtime_error(std::string(what) + " cannot have a null io_scheduler");
  }
  return scheduler;
}

}  // namespace

client::client(std::shared_ptr<io_scheduler> scheduler, options opts)
    : scheduler_(checked(std::move(scheduler), "senet::coro::net::tcp::client")),
      options_(opts),
      socket_(net::make_socket({.domain = opts.address.domain(),
                                .type = net::socket::type_t::tcp,
                                .blocking = net::socket::blocking_t::no})) {}

client::client(std::shared_ptr<io_scheduler> scheduler, net::socket socket, options opts) noexcept
    : scheduler_(std::move(scheduler)), options_(opts), socket_(std::move(socket)) {}

client::client(const client& other)
    : scheduler_(other.scheduler_),
      options_(other.options_),
      socket_(other.socket_),
      connect_status_(other.connect_status_),
      connect_error_(other.connect_error_) {}

client::client(client&& other) noexcept
    : scheduler_(std::move(other.scheduler_)),
      options_(other.options_),
      socket_(std::move(other.socket_)),
      connect_status_(std::exchange(other.connect_status_, std::nullopt)),
      connect_error_(other.connect_error_) {}

client& client::operator=(const client& other) noexcept {
  if (this != &other) {
    scheduler_ = other.scheduler_;
    options_ = other.options_;
    socket_ = other.socket_;
    connect_status_ = other.connect_status_;
    connect_error_ = other.connect_error_;
  }
  return *this;
}

client& client::operator=(client&& other) noexcept {
  if (this != &other) {
    scheduler_ = std::move(other.scheduler_);
    options_ = other.options_;
    socket_ = std::move(other.socket_);
    connect_status_ = std::exchange(other.connect_status_, std::nullopt);
    connect_error_ = other.connect_error_;
  }
  return *this;
}

client::~client() = default;

net::connect_status client::connect_outcome(net::connect_status status, std::error_code ec) noexcept {
  connect_status_ = status;
  connect_error_ = ec;
  if (ec) {
    errno = detail::errno_of(ec);  // libcoro's callers read errno after `error`
  }
  return status;
}

task<net::connect_status> client::connect(std::chrono::milliseconds timeout) {
  if (connect_status_) {
    co_return *connect_status_;
  }
  if (options_.address.domain() != domain_t::ipv4 && options_.address.domain() != domain_t::ipv6) {
    co_return connect_outcome(connect_status::invalid_ip_address);
  }
  if (!socket_.is_valid()) {
    co_return connect_outcome(connect_status::error, std::make_error_code(std::errc::bad_file_descriptor));
  }
  detail::io_awaiter<connect_policy> op(
      &detail::scheduler_core_of(*scheduler_),
      connect_policy(&socket_.senet_socket(),
                     detail::ip_protocol::endpoint(options_.address.to_address(), options_.port)),
      timeout);
  connect_status status = co_await op;
  co_return connect_outcome(status, op.policy().error());
}

recv_result::pair_type client::receive_now(std::span<char> buffer) noexcept {
  if (buffer.empty()) {
    return {recv_status::ok, buffer};
  }
  std::error_code ec;
  std::size_t n = socket_.senet_socket().receive_message(senet::mutable_buffer(buffer.data(), buffer.size()),
                                                         senet::net::message_flags{}, nullptr, ec);
  if (ec) {
    return {static_cast<recv_status>(detail::errno_of(ec)), std::span<char>{}};
  }
  // Zero bytes into a buffer that is not empty: the end of the stream.
  return {n == 0 ? recv_status::closed : recv_status::ok, buffer.first(n)};
}

send_result::pair_type client::send_now(std::span<const char> buffer) noexcept {
  if (buffer.empty()) {
    return {send_status::ok, buffer};
  }
  std::error_code ec;
  std::size_t n = socket_.senet_socket().send_message(senet::const_buffer(buffer.data(), buffer.size()),
                                                      senet::net::message_flags{}, nullptr, ec);
  if (ec) {
    return {static_cast<send_status>(detail::errno_of(ec)), buffer};
  }
  return {send_status::ok, buffer.subspan(n)};
}

}  // namespace senet::coro::net::tcp
