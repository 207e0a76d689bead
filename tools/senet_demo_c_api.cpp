// SPDX-License-Identifier: BSL-1.0
// senet-demo's C API face (<senet/c/async_socket.h>): an echo server and a client whose
// connections are async_sockets driven by their callbacks. The C API wraps sockets the program
// made itself (it has no acceptor), so the server accepts with accept4 and the client connects
// with connect(2) before handing each socket over.
#include "senet_demo.hpp"

#include <senet/c/async_socket.h>
#include <senet/io/backend_kind.hpp>
#include <senet/io/io_context.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace senet_demo {

namespace {

// A connection of the C API echo server: receive, send all of it back, receive again.
struct c_echo_connection {
  ASYNC_SOCKET_HANDLE socket = nullptr;
  std::atomic<bool> finished{false};
  ASYNC_SOCKET_BUFFER receive_buffer{};
  ASYNC_SOCKET_BUFFER send_buffer{};
  std::array<unsigned char, 16 * 1024> data{};

  void receive() {
    receive_buffer = {data.data(), static_cast<std::uint32_t>(data.size())};
    if (async_socket_receive_async(socket, &receive_buffer, 1, &c_echo_connection::on_received, this) != 0) {
      finished = true;
    }
  }
  static void on_open(void* context, ASYNC_SOCKET_OPEN_RESULT result) {
    auto* c = static_cast<c_echo_connection*>(context);
    if (result == ASYNC_SOCKET_OPEN_OK) {
      c->receive();
    } else {
      c->finished = true;
    }
  }
  static void on_received(void* context, ASYNC_SOCKET_RECEIVE_RESULT result, std::uint32_t n) {
    auto* c = static_cast<c_echo_connection*>(context);
    if (result == ASYNC_SOCKET_RECEIVE_OK && n > 0) {
      c->send_buffer = {c->data.data(), n};
      if (async_socket_send_async(c->socket, &c->send_buffer, 1, &c_echo_connection::on_sent, c) ==
          ASYNC_SOCKET_SEND_SYNC_OK) {
        return;
      }
    }
    c->finished = true;  // the peer closed (ABANDONED), or an error
  }
  static void on_sent(void* context, ASYNC_SOCKET_SEND_RESULT result) {
    auto* c = static_cast<c_echo_connection*>(context);
    if (result == ASYNC_SOCKET_SEND_OK) {
      c->receive();
    } else {
      c->finished = true;
    }
  }
};

// The C API has no acceptor (it wraps sockets the program made): this thread accepts with
// accept4 and hands each connection to an async_socket, until `stop_fd` is readable; connections
// that ended are destroyed as it goes, the others when it stops.
void serve_c_api(int listen_fd, int stop_fd) {
  std::vector<std::unique_ptr<c_echo_connection>> connections;
  auto sweep = [&connections](bool all) {
    std::erase_if(connections, [all](const std::unique_ptr<c_echo_connection>& c) {
      if (all || c->finished.load()) {
        async_socket_destroy(c->socket);  // closes it; waits for its callbacks
        return true;
      }
      return false;
    });
  };
  for (;;) {
    std::array<::pollfd, 2> fds{{{listen_fd, POLLIN, 0}, {stop_fd, POLLIN, 0}}};
    int n = ::poll(fds.data(), fds.size(), 100);
    if (n < 0 && errno != EINTR) {
      throw std::system_error(errno, std::system_category(), "poll");
    }
    if (fds[1].revents != 0) {
      break;
    }
    if (fds[0].revents != 0) {
      int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EAGAIN || errno == ECONNABORTED || errno == EINTR) {
          continue;
        }
        throw std::system_error(errno, std::system_category(), "accept4");
      }
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_unique<c_echo_connection>();
      c->socket = async_socket_create(nullptr, fd);
      if (c->socket == nullptr) {
        ::close(fd);
        throw std::runtime_error("async_socket_create failed");
      }
      c_echo_connection* raw = c.get();
      connections.push_back(std::move(c));
      if (async_socket_open_async(raw->socket, &c_echo_connection::on_open, raw) != 0) {
        raw->finished = true;
      }
    }
    sweep(false);
  }
  sweep(true);
}

// One connection of the C API client: a state machine in the callbacks.
struct c_client_connection {
  ASYNC_SOCKET_HANDLE socket = nullptr;
  std::size_t conn = 0;
  std::size_t seq = 0;
  std::size_t got = 0;
  std::vector<unsigned char> out;
  std::vector<unsigned char> in;
  ASYNC_SOCKET_BUFFER send_buffer{};
  ASYNC_SOCKET_BUFFER receive_buffer{};
  std::string error;
  std::size_t bytes = 0;
  std::mutex* lock = nullptr;
  std::condition_variable* done_cv = nullptr;
  std::size_t* done_count = nullptr;

  void finish(std::string why = {}) {
    std::lock_guard guard(*lock);
    error = std::move(why);
    ++*done_count;
    done_cv->notify_all();
  }
  void send_next() {
    if (seq == check_messages) {
      finish();
      return;
    }
    fill_message(out, conn, seq, check_size(conn, seq));
    in.assign(out.size(), 0);
    got = 0;
    send_buffer = {out.data(), static_cast<std::uint32_t>(out.size())};
    if (async_socket_send_async(socket, &send_buffer, 1, &c_client_connection::on_sent, this) !=
        ASYNC_SOCKET_SEND_SYNC_OK) {
      finish("async_socket_send_async failed");
      return;
    }
  }
  void receive_more() {
    receive_buffer = {in.data() + got, static_cast<std::uint32_t>(in.size() - got)};
    if (async_socket_receive_async(socket, &receive_buffer, 1, &c_client_connection::on_received, this) !=
        0) {
      finish("async_socket_receive_async failed");
    }
  }
  static void on_open(void* context, ASYNC_SOCKET_OPEN_RESULT result) {
    auto* c = static_cast<c_client_connection*>(context);
    if (result != ASYNC_SOCKET_OPEN_OK) {
      c->finish("open failed");
      return;
    }
    c->send_next();
  }
  static void on_sent(void* context, ASYNC_SOCKET_SEND_RESULT result) {
    auto* c = static_cast<c_client_connection*>(context);
    if (result != ASYNC_SOCKET_SEND_OK) {
      c->finish(std::string("send: ") + async_socket_send_result_to_string(result));
      return;
    }
    c->receive_more();
  }
  static void on_received(void* context, ASYNC_SOCKET_RECEIVE_RESULT result, std::uint32_t n) {
    auto* c = static_cast<c_client_connection*>(context);
    if (result != ASYNC_SOCKET_RECEIVE_OK) {
      c->finish(std::string("receive: ") + async_socket_receive_result_to_string(result));
      return;
    }
    c->got += n;
    if (c->got < c->in.size()) {
      c->receive_more();
      return;
    }
    c->bytes += c->got;
    if (std::string e = compare_message(c->in.data(), c->got, c->conn, c->seq); !e.empty()) {
      c->finish(std::move(e));
      return;
    }
    ++c->seq;
    c->send_next();
  }
};

int connect_blocking(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  ::sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const ::sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

std::string check_c_api(io::io_context&, std::uint16_t port, std::size_t& bytes) {
  std::mutex lock;
  std::condition_variable done_cv;
  std::size_t done = 0;
  std::array<c_client_connection, check_connections> c;
  std::string error;
  std::size_t started = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    c[i].conn = i;
    c[i].lock = &lock;
    c[i].done_cv = &done_cv;
    c[i].done_count = &done;
    int fd = connect_blocking(port);
    if (fd < 0) {
      error = std::string("connect: ") + std::strerror(errno);
      break;
    }
    c[i].socket = async_socket_create(nullptr, fd);
    if (c[i].socket == nullptr) {
      ::close(fd);
      error = "async_socket_create failed";
      break;
    }
    ++started;
    if (async_socket_open_async(c[i].socket, &c_client_connection::on_open, &c[i]) != 0) {
      c[i].finish("async_socket_open_async failed");
    }
  }
  {
    std::unique_lock guard(lock);
    if (!done_cv.wait_for(guard, operation_limit, [&] { return done == started; })) {
      error = "timed out after " + std::to_string(operation_limit.count()) + " s";
    }
  }
  for (std::size_t i = 0; i < started; ++i) {
    async_socket_destroy(c[i].socket);  // closes; waits for its callbacks
    bytes += c[i].bytes;
    if (error.empty() && !c[i].error.empty()) {
      error = c[i].error;
    }
  }
  return error;
}

void serve_c(io::backend_kind kind, int listen_fd, int stop_fd) {
  // The C API's completion port opens its io_context on the backend this names.
  ::setenv("SENET_BACKEND", std::string(io::to_string(kind)).c_str(), 1);
  ::sockaddr_in addr{};
  ::socklen_t len = sizeof addr;
  if (::getsockname(listen_fd, reinterpret_cast<::sockaddr*>(&addr), &len) != 0) {
    throw std::system_error(errno, std::system_category(), "getsockname");
  }
  announce_port(ntohs(addr.sin_port));
  serve_c_api(listen_fd, stop_fd);
  ::close(listen_fd);
}

}  // namespace

const face c_api_face{"c-api", "<senet/c/async_socket.h> callbacks", &serve_c, &check_c_api};

}  // namespace senet_demo
