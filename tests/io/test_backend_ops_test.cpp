// SPDX-License-Identifier: BSL-1.0
// The test backend at the backend boundary: each operation code of docs/design/io_core.md driven
// through a raw operation (the io_sender "kind" protocol), with its result as a plain number
// (bytes, descriptor, or -errno), so that every simulated behaviour is checked exactly.
#include <senet/io/test_network.hpp>

#include <senet/execution.hpp>
#include <senet/io/detail/operation.hpp>
#include <senet/io/io_context.hpp>
#include <senet/io/poll_events.hpp>
#include <senet/net/async_wait.hpp>
#include <senet/net/detail/io_sender.hpp>
#include <senet/net/sockets.hpp>

#include <support/run.hpp>
#include <support/test_env.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace ex = senet::ex;
namespace io = senet::io;
namespace net = senet::net;
namespace ip = senet::ip;
using io::poll_events;
using io::detail::op_code;

/** A socket address for raw operations: in for connect/sendto, out for accept/recvfrom. */
struct raw_address {
  ::sockaddr_storage storage{};
  ::socklen_t size = sizeof storage;

  template <class Endpoint>
  static raw_address of(const Endpoint& ep) {
    raw_address a;
    std::memcpy(&a.storage, ep.data(), ep.size());
    a.size = static_cast<::socklen_t>(ep.size());
    return a;
  }

  template <class Endpoint>
  Endpoint to() const {
    Endpoint ep;
    std::memcpy(ep.data(), &storage, size);
    ep.resize(size);
    return ep;
  }
};

/** One raw backend operation; completes with `set_value(result_)`. */
struct raw_op {
  using record_type = io::detail::io_operation;
  using completion_signatures = ex::completion_signatures<ex::set_value_t(std::int64_t), ex::set_stopped_t()>;
  struct storage {
    ::iovec iov{};
  };

  op_code code;
  io::detail::descriptor* d;
  void* data = nullptr;
  std::size_t size = 0;
  raw_address* name = nullptr;
  int flags = 0;

  void prepare(record_type& op, storage& st, io::io_context&) const noexcept {
    op.code_ = code;
    op.descriptor_ = d;
    st.iov.iov_base = data;
    st.iov.iov_len = size;
    op.msg_ = {};
    op.msg_.msg_iov = &st.iov;
    op.msg_.msg_iovlen = 1;
    if (name != nullptr) {
      op.msg_.msg_name = &name->storage;
      op.msg_.msg_namelen = name->size;
    }
    op.flags_ = flags;
  }

  template <class Rcvr>
  void deliver(Rcvr& rcvr, record_type& op, storage&) const noexcept {
    if (name != nullptr && op.result_ >= 0) {
      name->size = op.msg_.msg_namelen;
    }
    ex::set_value(std::move(rcvr), static_cast<std::int64_t>(op.result_));
  }
};

template <class Socket>
auto raw(op_code code, Socket& s, void* data = nullptr, std::size_t size = 0, raw_address* name = nullptr,
         int flags = 0) {
  return net::detail::make_sender(raw_op{code, &s.io_descriptor(), data, size, name, flags});
}

// A readiness wait (op_code::poll) for `events`; completes with the events that occurred.
template <class Socket>
auto wait_op(Socket& s, poll_events events) {
  return raw(op_code::poll, s, nullptr, 0, nullptr, static_cast<int>(events));
}

constexpr std::int64_t as_result(poll_events e) {
  return static_cast<std::int64_t>(e);
}

template <class Socket>
auto accept_op(Socket& s, raw_address* peer = nullptr) {
  return raw(op_code::accept, s, nullptr, 0, peer);
}
template <class Socket>
auto connect_op(Socket& s, raw_address& to) {
  return raw(op_code::connect, s, nullptr, 0, &to);
}
template <class Socket>
auto send_op(Socket& s, const std::string& data, int flags = 0) {
  return raw(op_code::send, s, const_cast<char*>(data.data()), data.size(), nullptr, flags);
}
template <class Socket>
auto receive_op(Socket& s, std::string& buf, int flags = 0) {
  return raw(op_code::receive, s, buf.data(), buf.size(), nullptr, flags);
}

/** Runs `sndr` to completion on `ctx` and returns its single value. */
template <class Sndr>
std::int64_t run(io::io_context& ctx, Sndr&& sndr) {
  auto r = senet::test::run(ctx, std::forward<Sndr>(sndr));
  EXPECT_TRUE(r.has_value());
  return r ? std::get<0>(*r) : -1;
}

const ip::tcp::endpoint loopback4{ip::address_v4::loopback(), 0};

/** A connected pair on the test backend. */
struct tcp_pair {
  io::io_context& ctx;
  net::tcp_acceptor acceptor{loopback4};
  net::tcp_socket client{ip::tcp::v4()};
  net::tcp_socket server;
  raw_address peer;

  explicit tcp_pair(io::io_context& c) : ctx(c) {
    raw_address to = raw_address::of(acceptor.local_endpoint());
    auto [fd, connected] =
        senet::test::run(ctx, ex::when_all(accept_op(acceptor, &peer), connect_op(client, to))).value();
    EXPECT_EQ(connected, 0);
    EXPECT_GE(fd, 0);
    if (fd >= 0) {
      server = net::tcp_socket(ip::tcp::v4(), static_cast<int>(fd));
    }
  }
};

/** A receive of up to `n` bytes, returning what arrived (or the error as text). */
std::string receive(io::io_context& ctx, net::tcp_socket& s, std::size_t n, int flags = 0) {
  std::string buf(n, '\0');
  std::int64_t r = run(ctx, receive_op(s, buf, flags));
  if (r < 0) {
    return "error " + std::to_string(-r);
  }
  buf.resize(static_cast<std::size_t>(r));
  return buf;
}

// ---- connect and accept --------------------------------------------------------------------------

TEST(test_backend_ops, accept_and_connect_give_real_descriptors_and_endpoints) {
  io::io_context ctx{io::test};
  tcp_pair p(ctx);
  ASSERT_TRUE(p.server.is_open());
  EXPECT_NE(p.server.native_handle(), p.client.native_handle());
  EXPECT_TRUE((::fcntl(p.server.native_handle(), F_GETFL) & O_NONBLOCK) != 0);
  EXPECT_TRUE((::fcntl(p.server.native_handle(), F_GETFD) & FD_CLOEXEC) != 0);
  // The connecting socket was bound implicitly to a real port of the address it connected to.
  ip::tcp::endpoint local = p.client.local_endpoint();
  EXPECT_EQ(local.address(), ip::address(ip::address_v4::loopback()));
  EXPECT_NE(local.port(), 0);
  EXPECT_EQ(p.peer.to<ip::tcp::endpoint>(), local);
  io::test_network& net = io::test_network::of(ctx);
  EXPECT_EQ(net.remote_endpoint(p.server), local);
  EXPECT_EQ(net.remote_endpoint(p.client), p.acceptor.local_endpoint());
}

TEST(test_backend_ops, connect_before_accept_is_queued_in_the_backlog) {
  io::io_context ctx{io::test};
  net::tcp_acceptor acceptor{loopback4};
  raw_address to = raw_address::of(acceptor.local_endpoint());
  net::tcp_socket a{ip::tcp::v4()};
  net::tcp_socket b{ip::tcp::v4()};
  // The listener was never used with the context: the backend finds it by its endpoint.
  EXPECT_EQ(run(ctx, connect_op(a, to)), 0);
  EXPECT_EQ(run(ctx, connect_op(b, to)), 0);
  raw_address first;
  raw_address second;
  std::int64_t fa = run(ctx, accept_op(acceptor, &first));
  std::int64_t fb = run(ctx, accept_op(acceptor, &second));
  ASSERT_GE(fa, 0);
  ASSERT_GE(fb, 0);
  net::tcp_socket sa(ip::tcp::v4(), static_cast<int>(fa));
  net::tcp_socket sb(ip::tcp::v4(), static_cast<int>(fb));
  EXPECT_EQ(first.to<ip::tcp::endpoint>(), a.local_endpoint());
  EXPECT_EQ(second.to<ip::tcp::endpoint>(), b.local_endpoint());
}

TEST(test_backend_ops, wildcard_listener_accepts_loopback_connects) {
  io::io_context ctx{io::test};
  net::tcp_acceptor acceptor{ip::tcp::endpoint(ip::tcp::v4(), 0)};
  raw_address to =
      raw_address::of(ip::tcp::endpoint(ip::address_v4::loopback(), acceptor.local_endpoint().port()));
  net::tcp_socket client{ip::tcp::v4()};
  auto [fd, r] = senet::test::run(ctx, ex::when_all(accept_op(acceptor), connect_op(client, to))).value();
  EXPECT_EQ(r, 0);
  ASSERT_GE(fd, 0);
  ::close(static_cast<int>(fd));
}

TEST(test_backend_ops, connect_without_listener_is_refused) {
  io::io_context ctx{io::test};
  // A bound socket that does not listen: its port is ours, and nobody accepts there.
  net::tcp_acceptor bound{ip::tcp::v4()};
  bound.bind(loopback4);
  raw_address to = raw_address::of(bound.local_endpoint());
  net::tcp_socket client{ip::tcp::v4()};
  EXPECT_EQ(run(ctx, connect_op(client, to)), -ECONNREFUSED);
  // The socket stays usable: a second connect, to a listener, succeeds.
  net::tcp_acceptor acceptor{loopback4};
  raw_address to2 = raw_address::of(acceptor.local_endpoint());
  EXPECT_EQ(run(ctx, connect_op(client, to2)), 0);
  EXPECT_EQ(run(ctx, connect_op(client, to2)), -EISCONN);
}

TEST(test_backend_ops, refused_endpoints_and_refuse_all) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  net::tcp_acceptor acceptor{loopback4};
  raw_address to = raw_address::of(acceptor.local_endpoint());
  net.refuse_connections(acceptor.local_endpoint());
  net::tcp_socket a{ip::tcp::v4()};
  EXPECT_EQ(run(ctx, connect_op(a, to)), -ECONNREFUSED);
  net.allow_connections(acceptor.local_endpoint());
  EXPECT_EQ(run(ctx, connect_op(a, to)), 0);
  net.refuse_all_connections(true);
  net::tcp_socket b{ip::tcp::v4()};
  EXPECT_EQ(run(ctx, connect_op(b, to)), -ECONNREFUSED);
  net.refuse_all_connections(false);
  EXPECT_EQ(run(ctx, connect_op(b, to)), 0);
}

TEST(test_backend_ops, accept_on_a_socket_that_does_not_listen_fails) {
  io::io_context ctx{io::test};
  net::tcp_acceptor bound{ip::tcp::v4()};
  bound.bind(loopback4);
  EXPECT_EQ(run(ctx, accept_op(bound)), -EINVAL);
}

TEST(test_backend_ops, local_stream_sockets_connect_by_path) {
  io::io_context ctx{io::test};
  char tmpl[] = "/tmp/senet-test-backend-XXXXXX";
  int tmp = ::mkstemp(tmpl);
  ASSERT_GE(tmp, 0);
  ::close(tmp);
  ::unlink(tmpl);
  {
    net::local_stream_acceptor acceptor{senet::local::stream_protocol::endpoint(tmpl)};
    net::local_stream_socket client{senet::local::stream_protocol{}};
    raw_address to = raw_address::of(acceptor.local_endpoint());
    auto [fd, r] = senet::test::run(ctx, ex::when_all(accept_op(acceptor), connect_op(client, to))).value();
    ASSERT_EQ(r, 0);
    ASSERT_GE(fd, 0);
    net::local_stream_socket server(senet::local::stream_protocol{}, static_cast<int>(fd));
    std::string hello = "hello";
    EXPECT_EQ(run(ctx, send_op(client, hello)), 5);
    std::string buf(16, '\0');
    EXPECT_EQ(run(ctx, receive_op(server, buf)), 5);
    EXPECT_EQ(buf.substr(0, 5), "hello");
  }
  ::unlink(tmpl);
}

// ---- send and receive -------------------------------------------------------------------------

TEST(test_backend_ops, send_then_receive_and_receive_then_send) {
  io::io_context ctx{io::test};
  tcp_pair p(ctx);
  std::string abc = "abc";
  EXPECT_EQ(run(ctx, send_op(p.client, abc)), 3);
  EXPECT_EQ(receive(ctx, p.server, 10), "abc");
  // A receive waiting first is completed by the send.
  std::string buf(10, '\0');
  std::string xyz = "xyz";
  auto [n, sent] =
      senet::test::run(ctx, ex::when_all(receive_op(p.client, buf), send_op(p.server, xyz))).value();
  EXPECT_EQ(n, 3);
  EXPECT_EQ(sent, 3);
  EXPECT_EQ(buf.substr(0, 3), "xyz");
}

TEST(test_backend_ops, max_transfer_makes_transfers_partial) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  tcp_pair p(ctx);
  net.set_max_transfer(4);
  EXPECT_EQ(net.max_transfer(), 4U);
  std::string data = "0123456789";
  EXPECT_EQ(run(ctx, send_op(p.client, data)), 4);
  EXPECT_EQ(run(ctx, send_op(p.client, data)), 4);
  EXPECT_EQ(net.buffered(p.server), 8U);
  EXPECT_EQ(receive(ctx, p.server, 100), "0123");
  EXPECT_EQ(receive(ctx, p.server, 3), "012");
  EXPECT_EQ(receive(ctx, p.server, 100), "3");
  EXPECT_EQ(net.buffered(p.server), 0U);
  EXPECT_THROW(net.set_max_transfer(0), std::invalid_argument);
  net.set_max_transfer(io::test_network::no_limit);
  EXPECT_EQ(run(ctx, send_op(p.client, data)), 10);
}

TEST(test_backend_ops, peek_leaves_data_and_zero_length_receive_completes) {
  io::io_context ctx{io::test};
  tcp_pair p(ctx);
  std::string data = "peek";
  EXPECT_EQ(run(ctx, send_op(p.client, data)), 4);
  EXPECT_EQ(receive(ctx, p.server, 10, MSG_PEEK), "peek");
  EXPECT_EQ(receive(ctx, p.server, 0), "");
  EXPECT_EQ(receive(ctx, p.server, 10), "peek");
}

TEST(test_backend_ops, send_buffer_limit_blocks_and_resumes_sends) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  tcp_pair p(ctx);
  net.set_send_buffer_limit(6);
  std::string data = "0123456789";
  EXPECT_EQ(run(ctx, send_op(p.client, data)), 6);
  // The peer holds 6 unread bytes: the next send waits until the receive makes room.
  std::string buf(4, '\0');
  auto [sent, received] =
      senet::test::run(ctx, ex::when_all(send_op(p.client, data), receive_op(p.server, buf))).value();
  EXPECT_EQ(received, 4);
  EXPECT_EQ(sent, 4);
  EXPECT_EQ(net.buffered(p.server), 6U);
  EXPECT_EQ(receive(ctx, p.server, 100), "450123");
}

TEST(test_backend_ops, operations_in_one_direction_complete_in_order) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  tcp_pair p(ctx);
  net.set_max_transfer(2);
  std::string b1(3, '\0');
  std::string b2(3, '\0');
  std::string data = "abcd";
  auto [r1, r2, s1, s2] =
      senet::test::run(ctx, ex::when_all(receive_op(p.server, b1), receive_op(p.server, b2),
                                         send_op(p.client, data), send_op(p.client, data)))
          .value();
  EXPECT_EQ(s1, 2);
  EXPECT_EQ(s2, 2);
  EXPECT_EQ(r1, 2);
  EXPECT_EQ(r2, 2);
  EXPECT_EQ(b1.substr(0, 2), "ab");
  EXPECT_EQ(b2.substr(0, 2), "ab");
}

// ---- end of stream, close, reset ----------------------------------------------------------------

TEST(test_backend_ops, close_gives_end_of_stream_after_the_data) {
  io::io_context ctx{io::test};
  tcp_pair p(ctx);
  std::string data = "last words";
  EXPECT_EQ(run(ctx, send_op(p.client, data)), 10);
  p.client.close();
  EXPECT_EQ(receive(ctx, p.server, 4), "last");
  EXPECT_EQ(receive(ctx, p.server, 100), " words");
  EXPECT_EQ(receive(ctx, p.server, 100), "");
  EXPECT_EQ(receive(ctx, p.server, 100), "");
  EXPECT_EQ(run(ctx, send_op(p.server, data)), -EPIPE);
}

TEST(test_backend_ops, waiting_receive_sees_a_close_by_the_peer) {
  io::io_context ctx{io::test};
  tcp_pair p(ctx);
  std::string buf(10, '\0');
  // The peer (never used with the context after accept) is closed from a handler while the
  // receive waits.
  auto close_later = ex::then(net::async_wait_for(1s), [&] { p.server.close(); });
  auto [n] = senet::test::run(ctx, ex::when_all(receive_op(p.client, buf), close_later)).value();
  EXPECT_EQ(n, 0);
}

TEST(test_backend_ops, an_accepted_socket_closed_before_any_operation_is_noticed) {
  io::io_context ctx{io::test};
  tcp_pair p(ctx);
  int fd = p.server.native_handle();
  p.server.close();
  // The descriptor number is given out again to an unrelated socket: still noticed.
  int other = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(other, 0);
  if (other != fd) {
    ASSERT_EQ(::dup2(other, fd), fd);
    ::close(other);
  }
  EXPECT_EQ(receive(ctx, p.client, 10), "");
  std::string data = "x";
  EXPECT_EQ(run(ctx, send_op(p.client, data)), -EPIPE);
  ::close(fd);
}

TEST(test_backend_ops, close_with_unread_data_resets_the_peer) {
  io::io_context ctx{io::test};
  tcp_pair p(ctx);
  std::string data = "unread";
  EXPECT_EQ(run(ctx, send_op(p.client, data)), 6);
  p.server.close();
  EXPECT_EQ(run(ctx, send_op(p.client, data)), -ECONNRESET);
  EXPECT_EQ(run(ctx, send_op(p.client, data)), -EPIPE);
  EXPECT_EQ(receive(ctx, p.client, 10), "");
}

TEST(test_backend_ops, close_with_linger_zero_resets_the_peer) {
  io::io_context ctx{io::test};
  tcp_pair p(ctx);
  p.server.set_option(net::socket_base::linger{true, 0});
  std::string data = "x";
  EXPECT_EQ(run(ctx, send_op(p.server, data)), 1);  // registers the socket with the context
  p.server.close();
  EXPECT_EQ(receive(ctx, p.client, 10), "error " + std::to_string(ECONNRESET));
  EXPECT_EQ(receive(ctx, p.client, 10), "");
}

TEST(test_backend_ops, reset_connection_fails_the_next_operation_on_both_ends) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  tcp_pair p(ctx);
  std::string data = "lost";
  EXPECT_EQ(run(ctx, send_op(p.client, data)), 4);
  std::string buf(10, '\0');
  // A receive waiting on the client gets the reset too.
  auto reset_later = ex::then(net::async_wait_for(1ms), [&] { net.reset_connection(p.client); });
  auto [r] = senet::test::run(ctx, ex::when_all(receive_op(p.client, buf), reset_later)).value();
  EXPECT_EQ(r, -ECONNRESET);
  EXPECT_EQ(receive(ctx, p.server, 10), "error " + std::to_string(ECONNRESET));
  EXPECT_EQ(receive(ctx, p.server, 10), "");
  EXPECT_EQ(run(ctx, send_op(p.server, data)), -EPIPE);
  EXPECT_EQ(net.buffered(p.server), 0U);
  net::tcp_socket lone{ip::tcp::v4()};
  EXPECT_THROW(net.reset_connection(lone), std::system_error);
}

TEST(test_backend_ops, shutdown_send_gives_end_of_stream_and_epipe) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  tcp_pair p(ctx);
  std::string data = "bye";
  EXPECT_EQ(run(ctx, send_op(p.client, data)), 3);
  net.shutdown(p.client, SHUT_WR);
  EXPECT_EQ(run(ctx, send_op(p.client, data)), -EPIPE);
  EXPECT_EQ(receive(ctx, p.server, 10), "bye");
  EXPECT_EQ(receive(ctx, p.server, 10), "");
  // The other direction still works.
  EXPECT_EQ(run(ctx, send_op(p.server, data)), 3);
  EXPECT_EQ(receive(ctx, p.client, 10), "bye");
  net.shutdown(p.client, SHUT_RD);
  EXPECT_EQ(receive(ctx, p.client, 10), "");
  EXPECT_THROW(net.shutdown(p.client, 42), std::system_error);
}

TEST(test_backend_ops, listener_closing_resets_connections_not_accepted) {
  io::io_context ctx{io::test};
  auto acceptor = std::make_optional<net::tcp_acceptor>(loopback4);
  raw_address to = raw_address::of(acceptor->local_endpoint());
  net::tcp_socket client{ip::tcp::v4()};
  EXPECT_EQ(run(ctx, connect_op(client, to)), 0);
  std::int64_t fd = run(ctx, accept_op(*acceptor));
  ASSERT_GE(fd, 0);
  net::tcp_socket accepted(ip::tcp::v4(), static_cast<int>(fd));
  net::tcp_socket second{ip::tcp::v4()};
  EXPECT_EQ(run(ctx, connect_op(second, to)), 0);
  acceptor.reset();
  EXPECT_EQ(receive(ctx, second, 10), "error " + std::to_string(ECONNRESET));
}

// ---- readiness -----------------------------------------------------------------------------------

TEST(test_backend_ops, wait_readable_and_writable_follow_the_simulated_state) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  tcp_pair p(ctx);
  EXPECT_EQ(run(ctx, wait_op(p.client, poll_events::writable)), as_result(poll_events::writable));
  std::string data = "r";
  auto send_later = ex::let_value(net::async_wait_for(1s), [&] { return send_op(p.client, data); });
  auto [readable, sent] =
      senet::test::run(ctx, ex::when_all(wait_op(p.server, poll_events::readable), send_later)).value();
  EXPECT_EQ(readable, as_result(poll_events::readable));
  EXPECT_EQ(sent, 1);
  // Full: not writable until the peer reads.
  net.set_send_buffer_limit(1);
  std::string buf(1, '\0');
  auto read_later = ex::let_value(net::async_wait_for(1s), [&] { return receive_op(p.server, buf); });
  auto t0 = net.now();
  auto [writable, n] =
      senet::test::run(ctx, ex::when_all(wait_op(p.client, poll_events::writable), read_later)).value();
  EXPECT_EQ(writable, as_result(poll_events::writable));
  EXPECT_EQ(n, 1);
  EXPECT_EQ(net.now() - t0, 1s);
  // A listener is readable when a connection waits.
  net::tcp_socket c{ip::tcp::v4()};
  raw_address to = raw_address::of(p.acceptor.local_endpoint());
  auto connect_later = ex::let_value(net::async_wait_for(1s), [&] { return connect_op(c, to); });
  auto [ready, connected] =
      senet::test::run(ctx, ex::when_all(wait_op(p.acceptor, poll_events::readable), connect_later)).value();
  EXPECT_EQ(ready, as_result(poll_events::readable));
  EXPECT_EQ(connected, 0);
}

// ---- datagrams -------------------------------------------------------------------------------------

TEST(test_backend_ops, datagrams_carry_the_sender_endpoint) {
  io::io_context ctx{io::test};
  net::udp_socket receiver{ip::udp::v4()};
  receiver.bind(ip::udp::endpoint(ip::address_v4::loopback(), 0));
  net::udp_socket sender{ip::udp::v4()};
  raw_address to = raw_address::of(receiver.local_endpoint());
  std::string d1 = "first";
  std::string d2 = "second datagram";
  EXPECT_EQ(run(ctx, raw(op_code::send, sender, d1.data(), d1.size(), &to)), 5);
  EXPECT_EQ(run(ctx, raw(op_code::send, sender, d2.data(), d2.size(), &to)), 15);
  // The unbound sender was bound to a real port; it appears with the address it sent to.
  ip::udp::endpoint from_ep = sender.local_endpoint();
  EXPECT_NE(from_ep.port(), 0);
  std::string buf(64, '\0');
  raw_address from;
  EXPECT_EQ(run(ctx, raw(op_code::receive, receiver, buf.data(), buf.size(), &from)), 5);
  EXPECT_EQ(buf.substr(0, 5), "first");
  EXPECT_EQ(from.to<ip::udp::endpoint>(), ip::udp::endpoint(ip::address_v4::loopback(), from_ep.port()));
  // A short buffer truncates; MSG_TRUNC reports the real length.
  std::string small(6, '\0');
  EXPECT_EQ(run(ctx, raw(op_code::receive, receiver, small.data(), small.size(), nullptr, MSG_PEEK)), 6);
  EXPECT_EQ(run(ctx, raw(op_code::receive, receiver, small.data(), small.size(), nullptr, MSG_TRUNC)), 15);
  EXPECT_EQ(small, "second");
  EXPECT_EQ(io::test_network::of(ctx).buffered(receiver), 0U);
}

TEST(test_backend_ops, datagram_to_nobody_is_dropped_and_connected_sockets_filter) {
  io::io_context ctx{io::test};
  net::udp_socket a{ip::udp::v4()};
  a.bind(ip::udp::endpoint(ip::address_v4::loopback(), 0));
  net::udp_socket b{ip::udp::v4()};
  b.bind(ip::udp::endpoint(ip::address_v4::loopback(), 0));
  net::udp_socket c{ip::udp::v4()};
  c.bind(ip::udp::endpoint(ip::address_v4::loopback(), 0));
  net::udp_socket nobody{ip::udp::v4()};
  nobody.bind(ip::udp::endpoint(ip::address_v4::loopback(), 0));
  raw_address nowhere = raw_address::of(nobody.local_endpoint());
  nobody.close();
  std::string d = "lost";
  EXPECT_EQ(run(ctx, raw(op_code::send, a, d.data(), d.size(), &nowhere)), 4);
  // a connects to b: it receives only from b, and sends to b without an address.
  raw_address to_b = raw_address::of(b.local_endpoint());
  EXPECT_EQ(run(ctx, connect_op(a, to_b)), 0);
  raw_address to_a = raw_address::of(a.local_endpoint());
  std::string from_c = "from c";
  std::string from_b = "from b";
  EXPECT_EQ(run(ctx, raw(op_code::send, c, from_c.data(), from_c.size(), &to_a)), 6);
  EXPECT_EQ(run(ctx, raw(op_code::send, b, from_b.data(), from_b.size(), &to_a)), 6);
  std::string buf(16, '\0');
  EXPECT_EQ(run(ctx, raw(op_code::receive, a, buf.data(), buf.size())), 6);
  EXPECT_EQ(buf.substr(0, 6), "from b");
  EXPECT_EQ(run(ctx, raw(op_code::send, a, d.data(), d.size())), 4);
  EXPECT_EQ(run(ctx, raw(op_code::receive, b, buf.data(), buf.size())), 4);
  net::udp_socket unconnected{ip::udp::v4()};
  EXPECT_EQ(run(ctx, raw(op_code::send, unconnected, d.data(), d.size())), -EDESTADDRREQ);
}

TEST(test_backend_ops, a_new_receiver_on_a_reused_descriptor_number_is_found) {
  io::io_context ctx{io::test};
  std::string d = "dgram";
  std::string buf(8, '\0');
  int fd = -1;
  {
    // A socket of another type, known to the backend.
    net::tcp_socket old{ip::tcp::v4()};
    fd = old.native_handle();
    EXPECT_EQ(run(ctx, receive_op(old, buf)), -ENOTCONN);
  }
  // The closed socket's number goes to a new receiver the backend has not seen yet. The kernel
  // usually gives the lowest free number, which is `fd`; if it gave another, the new socket is
  // moved to `fd` (free since `old` closed it), so that the number is reused in every run.
  int made = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ASSERT_GE(made, 0) << std::strerror(errno);
  if (made != fd) {
    ASSERT_EQ(::dup3(made, fd, O_CLOEXEC), fd) << std::strerror(errno);
    ::close(made);
  }
  net::udp_socket receiver{ip::udp::v4(), fd};
  ASSERT_EQ(receiver.native_handle(), fd);
  receiver.bind(ip::udp::endpoint(ip::address_v4::loopback(), 0));
  net::udp_socket sender{ip::udp::v4()};
  raw_address to = raw_address::of(receiver.local_endpoint());
  EXPECT_EQ(run(ctx, raw(op_code::send, sender, d.data(), d.size(), &to)), 5);
  // A datagram lost to a stale record would leave the receive waiting: give up after a minute.
  auto give_up = ex::then(net::async_wait_for(1min), [] { return std::int64_t{-1}; });
  EXPECT_EQ(run(ctx, ex::when_any(raw(op_code::receive, receiver, buf.data(), buf.size()), give_up)), 5);
}

TEST(test_backend_ops, udp_over_ipv6) {
  io::io_context ctx{io::test};
  net::udp_socket receiver{ip::udp::v6()};
  std::error_code ec;
  receiver.bind(ip::udp::endpoint(ip::address_v6::loopback(), 0), ec);
  if (ec) {
    GTEST_SKIP() << "no IPv6 loopback here: " << ec.message();
  }
  net::udp_socket sender{ip::udp::v6()};
  sender.bind(ip::udp::endpoint(ip::address_v6::loopback(), 0));
  raw_address to = raw_address::of(receiver.local_endpoint());
  std::string d = "six";
  EXPECT_EQ(run(ctx, raw(op_code::send, sender, d.data(), d.size(), &to)), 3);
  std::string buf(8, '\0');
  raw_address from;
  EXPECT_EQ(run(ctx, raw(op_code::receive, receiver, buf.data(), buf.size(), &from)), 3);
  EXPECT_EQ(from.to<ip::udp::endpoint>(), sender.local_endpoint());
}

// ---- latency and virtual time ---------------------------------------------------------------------

TEST(test_backend_ops, latency_delays_connects_and_data_in_virtual_time) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  net.set_latency(5ms);
  EXPECT_EQ(net.latency(), 5ms);
  net::tcp_acceptor acceptor{loopback4};
  net::tcp_socket client{ip::tcp::v4()};
  raw_address to = raw_address::of(acceptor.local_endpoint());
  auto t0 = net.now();
  auto [fd, r] = senet::test::run(ctx, ex::when_all(accept_op(acceptor), connect_op(client, to))).value();
  EXPECT_EQ(r, 0);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(net.now() - t0, 5ms);
  net::tcp_socket server(ip::tcp::v4(), static_cast<int>(fd));
  std::string data = "slow";
  EXPECT_EQ(run(ctx, send_op(client, data)), 4);  // accepted at once, visible later
  EXPECT_EQ(net.buffered(server), 4U);
  EXPECT_EQ(net.now() - t0, 5ms);
  EXPECT_EQ(receive(ctx, server, 10), "slow");
  EXPECT_EQ(net.now() - t0, 10ms);
  // advance() delivers what is due on the way.
  EXPECT_EQ(run(ctx, send_op(client, data)), 4);
  net.advance(6ms);
  EXPECT_EQ(net.now() - t0, 16ms);
  EXPECT_EQ(receive(ctx, server, 10), "slow");
  EXPECT_EQ(net.now() - t0, 16ms);
  // A refused connect also takes the latency.
  net.refuse_all_connections(true);
  net::tcp_socket refused{ip::tcp::v4()};
  EXPECT_EQ(run(ctx, connect_op(refused, to)), -ECONNREFUSED);
  EXPECT_EQ(net.now() - t0, 21ms);
}

TEST(test_backend_ops, latency_delays_datagrams) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  net.set_latency(1s);
  net::udp_socket receiver{ip::udp::v4()};
  receiver.bind(ip::udp::endpoint(ip::address_v4::loopback(), 0));
  net::udp_socket sender{ip::udp::v4()};
  raw_address to = raw_address::of(receiver.local_endpoint());
  std::string d = "later";
  auto t0 = net.now();
  EXPECT_EQ(run(ctx, raw(op_code::send, sender, d.data(), d.size(), &to)), 5);
  std::string buf(8, '\0');
  EXPECT_EQ(run(ctx, raw(op_code::receive, receiver, buf.data(), buf.size())), 5);
  EXPECT_EQ(net.now() - t0, 1s);
}

// ---- cancellation, release, shutdown -----------------------------------------------------------------

TEST(test_backend_ops, pending_operations_are_cancelled_by_when_any) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  tcp_pair p(ctx);
  std::string buf(4, '\0');
  auto t0 = net.now();
  auto r =
      senet::test::run(ctx, ex::when_any(ex::then(receive_op(p.server, buf), [](std::int64_t) { return 1; }),
                                         ex::then(net::async_wait_for(3s), [] { return 2; }),
                                         ex::then(accept_op(p.acceptor), [](std::int64_t) { return 3; })));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 2);
  EXPECT_EQ(net.now() - t0, 3s);
  // The socket is still usable.
  std::string data = "ok";
  EXPECT_EQ(run(ctx, send_op(p.client, data)), 2);
  EXPECT_EQ(receive(ctx, p.server, 4), "ok");
}

TEST(test_backend_ops, a_delayed_connect_can_be_cancelled) {
  io::io_context ctx{io::test};
  io::test_network& net = io::test_network::of(ctx);
  net.set_latency(1h);
  net::tcp_acceptor acceptor{loopback4};
  net::tcp_socket client{ip::tcp::v4()};
  raw_address to = raw_address::of(acceptor.local_endpoint());
  auto r =
      senet::test::run(ctx, ex::when_any(ex::then(connect_op(client, to), [](std::int64_t) { return 1; }),
                                         ex::then(net::async_wait_for(1s), [] { return 2; })));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(std::get<0>(*r), 2);
  net.set_latency(0s);
  // Not connected: the connection never reached the listener.
  EXPECT_EQ(receive(ctx, client, 4), "error " + std::to_string(ENOTCONN));
  EXPECT_EQ(run(ctx, connect_op(client, to)), 0);
}

TEST(test_backend_ops, closing_a_socket_aborts_its_pending_operations) {
  io::io_context ctx{io::test};
  tcp_pair p(ctx);
  std::string buf(4, '\0');
  auto close_later = ex::then(net::async_wait_for(1s), [&] { p.server.close(); });
  auto [r] = senet::test::run(ctx, ex::when_all(receive_op(p.server, buf), close_later)).value();
  EXPECT_EQ(r, io::detail::io_operation::aborted);
  EXPECT_EQ(receive(ctx, p.client, 4), "");
}

TEST(test_backend_ops, a_socket_registered_with_another_context_is_busy) {
  io::io_context a{io::test};
  io::io_context b{io::test};
  tcp_pair p(a);
  std::string data = "x";
  EXPECT_EQ(run(a, send_op(p.client, data)), 1);
  EXPECT_EQ(run(b, send_op(p.client, data)), -EBUSY);
}

struct flag_receiver {
  using receiver_concept = ex::receiver_t;
  io::io_context* ctx;
  int* result;
  std::int64_t* value = nullptr;
  void set_value(std::int64_t v) && noexcept {
    *result = 1;
    if (value != nullptr) {
      *value = v;
    }
  }
  void set_stopped() && noexcept { *result = 2; }
  [[nodiscard]] auto get_env() const noexcept { return senet::test::scheduler_env(ctx->get_scheduler()); }
};

struct stoppable_flag_receiver {
  using receiver_concept = ex::receiver_t;
  io::io_context* ctx;
  ex::inplace_stop_token token;
  int* result;
  void set_value(std::int64_t) && noexcept { *result = 1; }
  void set_stopped() && noexcept { *result = 2; }
  [[nodiscard]] auto get_env() const noexcept {
    return senet::test::make_env(senet::test::scheduler_entry(ctx->get_scheduler()),
                                 senet::test::stop_token_entry(token));
  }
};

TEST(test_backend_ops, sockets_outlive_their_context) {
  std::optional<tcp_pair> p;
  auto ctx = std::make_unique<io::io_context>(io::test);
  p.emplace(*ctx);
  std::string data = "x";
  EXPECT_EQ(run(*ctx, send_op(p->client, data)), 1);
  std::string buf(4, '\0');
  // A receive still pending when the context is destroyed completes with set_stopped.
  int result = 0;
  auto op = ex::connect(receive_op(p->client, buf), flag_receiver{ctx.get(), &result});
  ex::start(op);
  EXPECT_EQ(ctx->poll(), 0U);
  EXPECT_EQ(result, 0);
  ctx.reset();
  EXPECT_EQ(result, 2);
  p.reset();  // the orphaned descriptor states are freed by the sockets
}

TEST(test_backend_ops, a_descriptor_closed_behind_senets_back_is_forgotten_safely) {
  io::io_context ctx{io::test};
  tcp_pair p(ctx);
  std::string buf(4, '\0');
  int result = 0;
  std::int64_t value = 0;
  auto op = ex::connect(receive_op(p.client, buf), flag_receiver{&ctx, &result, &value});
  ex::start(op);
  ctx.poll();
  ASSERT_EQ(result, 0);
  int fd = p.client.native_handle();
  ASSERT_EQ(::close(fd), 0);  // not through the socket: senet does not know
  // A new socket gets the number again: the old record is dropped when the new socket is first
  // used, its pending receive fails, and its peer sees the end of the stream.
  int other = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ASSERT_GE(other, 0);
  if (other != fd) {
    ASSERT_EQ(::dup2(other, fd), fd);
    ::close(other);
  }
  net::tcp_socket c(ip::tcp::v4(), fd);
  raw_address to = raw_address::of(p.acceptor.local_endpoint());
  EXPECT_EQ(run(ctx, connect_op(c, to)), 0);
  ctx.poll();
  EXPECT_EQ(result, 1);
  EXPECT_EQ(value, -EBADF);
  EXPECT_EQ(receive(ctx, p.server, 4), "");
  // The socket object gives up the number it no longer owns (release frees the old record).
  int released = p.client.release();
  EXPECT_EQ(released, fd);
}

TEST(test_backend_ops, blocking_loop_wakes_for_another_thread) {
  io::io_context ctx{io::test};
  tcp_pair p(ctx);
  std::string buf(4, '\0');
  ex::inplace_stop_source stop;
  std::thread t([&] {
    std::this_thread::sleep_for(20ms);
    stop.request_stop();
  });
  // Nothing can complete the receive and no timer is pending: the loop blocks until the other
  // thread's stop request cancels it.
  int result = 0;
  auto op = ex::connect(receive_op(p.server, buf), stoppable_flag_receiver{&ctx, stop.get_token(), &result});
  ex::start(op);
  ctx.run();
  t.join();
  EXPECT_EQ(result, 2);
}

// ---- sockets connected by the kernel ---------------------------------------------------------------

TEST(test_backend_ops, kernel_connected_sockets_use_the_real_system_calls) {
  io::io_context ctx{io::test};
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  net::local_stream_socket a(senet::local::stream_protocol{}, fds[0]);
  net::local_stream_socket b(senet::local::stream_protocol{}, fds[1]);
  std::string data = "kernel";
  // The receive waits in the kernel: the loop polls for it.
  std::string buf(16, '\0');
  auto send_later = ex::let_value(net::async_wait_for(1s), [&] { return send_op(a, data); });
  auto [n, sent] = senet::test::run(ctx, ex::when_all(receive_op(b, buf), send_later)).value();
  EXPECT_EQ(sent, 6);
  EXPECT_EQ(n, 6);
  EXPECT_EQ(buf.substr(0, 6), "kernel");
  EXPECT_EQ(run(ctx, wait_op(a, poll_events::writable)), as_result(poll_events::writable));
  a.close();
  // The kernel's answer for a Unix stream socket whose peer closed.
  EXPECT_EQ(run(ctx, wait_op(b, poll_events::readable)),
            as_result(poll_events::readable | poll_events::peer_closed | poll_events::hangup));
  EXPECT_EQ(run(ctx, receive_op(b, buf)), 0);
  EXPECT_EQ(run(ctx, send_op(b, data)), -EPIPE);
}

TEST(test_backend_ops, real_connections_to_a_listener_are_accepted_for_real) {
  io::io_context ctx{io::test};
  net::tcp_acceptor acceptor{loopback4};
  net::tcp_socket client{ip::tcp::v4()};
  ip::tcp::endpoint ep = acceptor.local_endpoint();
  int rc =
      ::connect(client.native_handle(), static_cast<const ::sockaddr*>(static_cast<const void*>(ep.data())),
                static_cast<::socklen_t>(ep.size()));
  ASSERT_TRUE(rc == 0 || errno == EINPROGRESS);
  raw_address peer;
  std::int64_t fd = run(ctx, accept_op(acceptor, &peer));
  ASSERT_GE(fd, 0);
  net::tcp_socket server(ip::tcp::v4(), static_cast<int>(fd));
  EXPECT_EQ(peer.to<ip::tcp::endpoint>(), client.local_endpoint());
  EXPECT_EQ(run(ctx, wait_op(client, poll_events::writable)), as_result(poll_events::writable));
  std::string data = "real";
  EXPECT_EQ(run(ctx, send_op(client, data)), 4);
  std::string buf(8, '\0');
  EXPECT_EQ(run(ctx, receive_op(server, buf)), 4);
  EXPECT_EQ(buf.substr(0, 4), "real");
}

TEST(test_backend_ops, datagrams_sent_through_the_kernel_are_received) {
  io::io_context ctx{io::test};
  net::udp_socket receiver{ip::udp::v4()};
  receiver.bind(ip::udp::endpoint(ip::address_v4::loopback(), 0));
  int raw_sender = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(raw_sender, 0);
  ip::udp::endpoint to = receiver.local_endpoint();
  std::string buf(16, '\0');
  raw_address from;
  // The receive waits first; another thread sends with a plain sendto.
  std::thread t([&] {
    std::this_thread::sleep_for(10ms);
    ::sendto(raw_sender, "outside", 7, 0, static_cast<const ::sockaddr*>(static_cast<const void*>(to.data())),
             static_cast<::socklen_t>(to.size()));
  });
  EXPECT_EQ(run(ctx, raw(op_code::receive, receiver, buf.data(), buf.size(), &from)), 7);
  t.join();
  EXPECT_EQ(buf.substr(0, 7), "outside");
  ::sockaddr_in self{};
  ::socklen_t len = sizeof self;
  ASSERT_EQ(::getsockname(raw_sender, static_cast<::sockaddr*>(static_cast<void*>(&self)), &len), 0);
  EXPECT_EQ(from.to<ip::udp::endpoint>().port(), ntohs(self.sin_port));
  ::close(raw_sender);
}

TEST(test_backend_ops, of_rejects_other_backends) {
  io::io_context ctx{io::epoll};
  EXPECT_THROW((void)io::test_network::of(ctx), std::system_error);
}

}  // namespace
