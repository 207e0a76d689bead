// SPDX-License-Identifier: BSL-1.0
#include <senet/net/basic_stream_socket.hpp>

#include <senet/ip/tcp.hpp>
#include <senet/net/basic_socket_acceptor.hpp>
#include <support/loopback.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/net/message_flags.hpp>

namespace {

using senet::ip::tcp;
using senet::net::socket_base;

// Connects `client` to `acceptor` with the plain system calls (the sockets are non-blocking) and
// returns the accepted socket, adopted through the (protocol, fd) constructor.
tcp::socket connect_pair(tcp::acceptor& acceptor, tcp::socket& client) {
  tcp::endpoint ep = acceptor.local_endpoint();
  int rc = ::connect(client.native_handle(), reinterpret_cast<const sockaddr*>(ep.data()), ep.size());
  EXPECT_TRUE(rc == 0 || errno == EINPROGRESS);
  pollfd pfd{acceptor.native_handle(), POLLIN, 0};
  EXPECT_EQ(::poll(&pfd, 1, 5000), 1);
  int fd = ::accept4(acceptor.native_handle(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  EXPECT_GE(fd, 0);
  pollfd cfd{client.native_handle(), POLLOUT, 0};
  EXPECT_EQ(::poll(&cfd, 1, 5000), 1);
  return tcp::socket(acceptor.protocol(), fd);
}

void expect_adopts_accepted_descriptor(senet::ip::address address) {
  tcp::acceptor acceptor(tcp::endpoint(address, 0));
  tcp::socket client(acceptor.protocol());
  tcp::socket server = connect_pair(acceptor, client);
  ASSERT_TRUE(server.is_open());
  EXPECT_EQ(server.protocol(), acceptor.protocol());
  EXPECT_EQ(server.remote_endpoint(), client.local_endpoint());
  EXPECT_EQ(client.remote_endpoint(), server.local_endpoint());
  EXPECT_EQ(server.local_endpoint().port(), acceptor.local_endpoint().port());
}

TEST(basic_stream_socket, adopts_accepted_descriptor_v4) {
  expect_adopts_accepted_descriptor(senet::ip::address_v4::loopback());
}

TEST(basic_stream_socket, adopts_accepted_descriptor_v6) {
  SENET_TEST_REQUIRE_IPV6();
  expect_adopts_accepted_descriptor(senet::ip::address_v6::loopback());
}

TEST(basic_stream_socket, shutdown_send_gives_peer_eof) {
  tcp::acceptor acceptor(tcp::endpoint(senet::ip::address_v4::loopback(), 0));
  tcp::socket client(tcp::v4());
  tcp::socket server = connect_pair(acceptor, client);
  client.shutdown(socket_base::shutdown_send);
  pollfd pfd{server.native_handle(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 5000), 1);
  char c = 0;
  EXPECT_EQ(::recv(server.native_handle(), &c, 1, 0), 0);
  // The other direction still works.
  ASSERT_EQ(::send(server.native_handle(), "x", 1, MSG_NOSIGNAL), 1);
  pollfd cfd{client.native_handle(), POLLIN, 0};
  ASSERT_EQ(::poll(&cfd, 1, 5000), 1);
  EXPECT_EQ(::recv(client.native_handle(), &c, 1, 0), 1);
  EXPECT_EQ(c, 'x');
}

TEST(basic_stream_socket, no_delay_on_connected_socket) {
  tcp::acceptor acceptor(tcp::endpoint(senet::ip::address_v4::loopback(), 0));
  tcp::socket client(tcp::v4());
  tcp::socket server = connect_pair(acceptor, client);
  server.set_option(socket_base::no_delay{true});
  EXPECT_TRUE(server.get_option<socket_base::no_delay>().value());
}

TEST(basic_stream_socket, move_keeps_connection) {
  tcp::acceptor acceptor(tcp::endpoint(senet::ip::address_v4::loopback(), 0));
  tcp::socket client(tcp::v4());
  tcp::socket server = connect_pair(acceptor, client);
  tcp::endpoint peer = server.remote_endpoint();
  tcp::socket moved;
  moved = std::move(server);
  EXPECT_FALSE(server.is_open());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(moved.remote_endpoint(), peer);
}

TEST(basic_stream_socket, constructor_throws_for_bad_descriptor) {
  EXPECT_THROW(tcp::socket(tcp::v4(), -1), std::system_error);
}

// ---- synchronous send / receive ----

using senet::net::message_flags;

// Waits (bounded) until `s` is readable, so that a non-blocking receive finds the bytes there.
void wait_readable(const tcp::socket& s) {
  pollfd pfd{s.native_handle(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 5000), 1);
}

TEST(basic_stream_socket, sync_send_and_receive) {
  tcp::acceptor acceptor(tcp::endpoint(senet::ip::address_v4::loopback(), 0));
  tcp::socket client(tcp::v4());
  tcp::socket server = connect_pair(acceptor, client);
  std::error_code ec;
  EXPECT_EQ(client.send(senet::buffer("hello", 5), message_flags{}, ec), 5u);
  EXPECT_FALSE(ec) << ec.message();
  wait_readable(server);
  char buf[16] = {};
  EXPECT_EQ(server.receive(senet::buffer(buf), message_flags{}, ec), 5u);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(std::string(buf, 5), "hello");
}

TEST(basic_stream_socket, sync_buffer_sequences_and_peek) {
  tcp::acceptor acceptor(tcp::endpoint(senet::ip::address_v4::loopback(), 0));
  tcp::socket client(tcp::v4());
  tcp::socket server = connect_pair(acceptor, client);
  std::array<senet::const_buffer, 2> out{senet::buffer("abc", 3), senet::buffer("defg", 4)};
  EXPECT_EQ(client.send(out), 7u);
  wait_readable(server);
  char peeked[7] = {};
  EXPECT_EQ(server.receive(senet::buffer(peeked), message_flags::peek), 7u);
  char a[2] = {};
  char b[5] = {};
  std::vector<senet::mutable_buffer> in{senet::buffer(a), senet::buffer(b)};
  EXPECT_EQ(server.read_some(in), 7u);
  EXPECT_EQ(std::string(a, 2) + std::string(b, 5), "abcdefg");
  EXPECT_EQ(std::string(peeked, 7), "abcdefg");
}

TEST(basic_stream_socket, sync_receive_with_nothing_queued_would_block) {
  tcp::acceptor acceptor(tcp::endpoint(senet::ip::address_v4::loopback(), 0));
  tcp::socket client(tcp::v4());
  tcp::socket server = connect_pair(acceptor, client);
  char buf[4];
  std::error_code ec;
  EXPECT_EQ(server.receive(senet::buffer(buf), message_flags{}, ec), 0u);
  EXPECT_EQ(ec, std::errc::operation_would_block);
  EXPECT_EQ(ec, std::errc::resource_unavailable_try_again);
  EXPECT_EQ(ec.category(), std::system_category());
  try {
    (void)server.receive(senet::buffer(buf));
    ADD_FAILURE() << "receive did not throw";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::operation_would_block);
  }
}

TEST(basic_stream_socket, sync_send_on_full_buffer_would_block) {
  tcp::acceptor acceptor(tcp::endpoint(senet::ip::address_v4::loopback(), 0));
  tcp::socket client(tcp::v4());
  tcp::socket server = connect_pair(acceptor, client);
  client.set_option(socket_base::send_buffer_size{4096});
  server.set_option(socket_base::receive_buffer_size{4096});
  std::vector<char> chunk(65536, 'x');
  std::error_code ec;
  std::size_t total = 0;
  // Nobody reads, so the kernel's buffers fill; bounded so that a regression fails.
  for (int i = 0; i < 10000 && !ec; ++i) {
    total += client.send(senet::buffer(chunk), message_flags{}, ec);
  }
  EXPECT_EQ(ec, std::errc::operation_would_block);
  EXPECT_GT(total, 0u);
}

TEST(basic_stream_socket, sync_receive_reports_eof_after_the_data) {
  tcp::acceptor acceptor(tcp::endpoint(senet::ip::address_v4::loopback(), 0));
  tcp::socket client(tcp::v4());
  tcp::socket server = connect_pair(acceptor, client);
  ASSERT_EQ(client.send(senet::buffer("ab", 2)), 2u);
  client.shutdown(socket_base::shutdown_send);
  server.non_blocking(false);  // wait for the bytes and the end, not for the test's luck
  char buf[8];
  std::error_code ec;
  std::size_t got = 0;
  while (!ec) {
    got += server.receive(senet::buffer(buf + got, sizeof buf - got), message_flags{}, ec);
  }
  EXPECT_EQ(got, 2u);
  EXPECT_EQ(ec, senet::error::eof);
  EXPECT_THROW((void)server.receive(senet::buffer(buf)), std::system_error);
}

TEST(basic_stream_socket, sync_empty_buffers_return_zero_without_error) {
  tcp::acceptor acceptor(tcp::endpoint(senet::ip::address_v4::loopback(), 0));
  tcp::socket client(tcp::v4());
  tcp::socket server = connect_pair(acceptor, client);
  std::error_code ec = std::make_error_code(std::errc::io_error);
  EXPECT_EQ(server.receive(senet::mutable_buffer(), message_flags{}, ec), 0u);
  EXPECT_FALSE(ec);
  ec = std::make_error_code(std::errc::io_error);
  EXPECT_EQ(client.send(senet::const_buffer(), message_flags{}, ec), 0u);
  EXPECT_FALSE(ec);
}

TEST(basic_stream_socket, sync_operations_on_closed_socket_fail_not_open) {
  tcp::socket s;
  char buf[4] = {};
  std::error_code ec;
  EXPECT_EQ(s.send(senet::buffer(buf), message_flags{}, ec), 0u);
  EXPECT_EQ(ec, senet::error::not_open);
  ec.clear();
  EXPECT_EQ(s.receive(senet::buffer(buf), message_flags{}, ec), 0u);
  EXPECT_EQ(ec, senet::error::not_open);
  ec.clear();
  EXPECT_EQ(s.receive(senet::mutable_buffer(), message_flags{}, ec), 0u);
  EXPECT_EQ(ec, senet::error::not_open);
  try {
    (void)s.send(senet::buffer(buf));
    ADD_FAILURE() << "send did not throw";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), senet::error::not_open);
  }
  EXPECT_THROW((void)s.write_some(senet::buffer(buf)), std::system_error);
  EXPECT_THROW((void)s.read_some(senet::buffer(buf)), std::system_error);
}

TEST(basic_stream_socket, sync_peer_reset_is_reported_and_send_raises_no_sigpipe) {
  tcp::acceptor acceptor(tcp::endpoint(senet::ip::address_v4::loopback(), 0));
  tcp::socket client(tcp::v4());
  tcp::socket server = connect_pair(acceptor, client);
  client.set_option(socket_base::linger{true, 0});
  client.close();  // an RST
  server.non_blocking(false);
  char buf[4];
  std::error_code ec;
  EXPECT_EQ(server.receive(senet::buffer(buf), message_flags{}, ec), 0u);
  EXPECT_EQ(ec, std::errc::connection_reset);
  // The connection is gone: a send fails (EPIPE) instead of killing the process with SIGPIPE.
  EXPECT_EQ(server.send(senet::buffer("x", 1), message_flags{}, ec), 0u);
  EXPECT_TRUE(ec == std::errc::broken_pipe || ec == std::errc::connection_reset) << ec.message();
}

TEST(basic_stream_socket, sync_receive_blocks_when_not_non_blocking) {
  tcp::acceptor acceptor(tcp::endpoint(senet::ip::address_v4::loopback(), 0));
  tcp::socket client(tcp::v4());
  tcp::socket server = connect_pair(acceptor, client);
  server.non_blocking(false);
  EXPECT_FALSE(server.non_blocking());
  // The descriptor stays non-blocking: only the synchronous members wait.
  EXPECT_NE(::fcntl(server.native_handle(), F_GETFL) & O_NONBLOCK, 0);
  std::thread sender([&] {
    std::error_code ec;
    (void)client.send(senet::buffer("late", 4), message_flags{}, ec);
    EXPECT_FALSE(ec) << ec.message();
  });
  char buf[8];
  std::error_code ec;
  std::size_t n = server.receive(senet::buffer(buf), message_flags{}, ec);
  sender.join();
  EXPECT_FALSE(ec) << ec.message();
  ASSERT_GE(n, 1u);
  // Blocking mode returns what is there once something is: read the rest the same way.
  while (n < 4 && !ec) {
    n += server.receive(senet::buffer(buf + n, 4 - n), message_flags{}, ec);
  }
  EXPECT_EQ(std::string(buf, 4), "late");
}

}  // namespace
