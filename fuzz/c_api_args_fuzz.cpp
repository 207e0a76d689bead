// SPDX-License-Identifier: BSL-1.0
// libFuzzer target for the C API's argument validation and its exactly-once promise: the input is
// a program of up to 64 calls on up to four async sockets (each one end of a socketpair whose other
// end the program writes to, reads from or closes), with arguments drawn from valid and invalid
// values: NULL handles, callbacks and payloads, zero counts, NULL buffers, zero lengths, lengths
// adding up past UINT32_MAX, unknown notify types, descriptors that are not sockets or not open,
// calls on sockets never opened, closed or opened twice. Checked against `async_socket.h`:
// - every call with a bad argument returns its documented error and calls nothing;
// - `async_socket_create` refuses what is not an open socket and leaves the descriptor open;
// - every call that returned success has its callback called exactly once, with a result the
//   header allows for it, by the time the socket is destroyed;
// - a receive never reports more bytes than its buffers hold.
#include "fuzz_input.hpp"

#include <senet/c/async_socket.h>
#include <senet/c/execution_engine.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace {

using senet::fuzz::check;

// One call that returned success: what its callback reported.
struct pending {
  std::atomic<int> calls{0};
  std::atomic<int> result{-1};
  std::atomic<std::uint32_t> bytes{0};
  std::uint32_t capacity = 0;
  std::vector<unsigned char> storage;
  bool opening = false;
};

void on_open(void* context, ASYNC_SOCKET_OPEN_RESULT result) {
  auto* p = static_cast<pending*>(context);
  p->result = static_cast<int>(result);
  p->calls.fetch_add(1);
}
void on_send(void* context, ASYNC_SOCKET_SEND_RESULT result) {
  auto* p = static_cast<pending*>(context);
  p->result = static_cast<int>(result);
  p->calls.fetch_add(1);
}
void on_receive(void* context, ASYNC_SOCKET_RECEIVE_RESULT result, std::uint32_t bytes) {
  auto* p = static_cast<pending*>(context);
  p->result = static_cast<int>(result);
  p->bytes = bytes;
  p->calls.fetch_add(1);
}
void on_notify(void* context, ASYNC_SOCKET_NOTIFY_IO_RESULT result) {
  auto* p = static_cast<pending*>(context);
  p->result = static_cast<int>(result);
  p->calls.fetch_add(1);
}

struct slot {
  ASYNC_SOCKET_HANDLE handle = nullptr;
  int peer = -1;
};

bool descriptor_open(int fd) {
  return ::fcntl(fd, F_GETFD) != -1;
}

// Buffers for a send or receive: valid ones over `p.storage`, or one of the documented bad shapes.
// Returns false when the shape is one the header says must be refused.
bool make_payload(senet::fuzz::input& in, pending& p, std::vector<ASYNC_SOCKET_BUFFER>& buffers) {
  const std::size_t count = in.below(5);
  bool valid = count != 0;
  p.storage.resize(count * 512);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < count; ++i) {
    ASYNC_SOCKET_BUFFER b{p.storage.data() + i * 512, static_cast<std::uint32_t>(1 + in.below(512))};
    switch (in.below(12)) {
      case 0:
        b.buffer = nullptr;
        valid = false;
        break;
      case 1:
        b.length = 0;
        valid = false;
        break;
      case 2:
        b.length = UINT32_MAX;
        break;  // only reached together with case 3's sum check
      default:
        break;
    }
    total += b.length;
    buffers.push_back(b);
  }
  if (total > UINT32_MAX) {
    valid = false;
  } else if (total > 512 * count) {
    // A single UINT32_MAX length that does not overflow the sum would make the library read past
    // the storage: that is the caller's error, not one the library can see. Keep it in bounds.
    for (auto& b : buffers) {
      if (b.length == UINT32_MAX) {
        b.length = 512;
      }
    }
    total = 0;
    for (auto& b : buffers) {
      total += b.length;
    }
  }
  p.capacity = static_cast<std::uint32_t>(total <= UINT32_MAX ? total : 0);
  return valid;
}

// One socket kept for the life of the process, so that the completion port (and its thread) is not
// started and stopped for every input: that is tested elsewhere, and would make the fuzzer slow.
ASYNC_SOCKET_HANDLE keep_port_running() {
  int fds[2];
  check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0, "socketpair");
  ::close(fds[1]);
  ASYNC_SOCKET_HANDLE h = async_socket_create(nullptr, fds[0]);
  check(h != nullptr, "create the keeper socket");
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static ASYNC_SOCKET_HANDLE keeper = keep_port_running();
  (void)keeper;
  senet::fuzz::input in(data, size);
  EXECUTION_ENGINE_HANDLE engine = execution_engine_create(nullptr);
  check(engine != nullptr, "execution_engine_create");
  std::array<slot, 4> slots{};
  std::vector<std::unique_ptr<pending>> accepted;
  enum class kind { open, send, receive, notify };
  std::vector<std::pair<kind, pending*>> kinds;

  for (int step = 0; step < 64 && !in.empty(); ++step) {
    slot& s = slots[in.below(slots.size())];
    // A handle argument: usually the slot's socket, sometimes NULL.
    ASYNC_SOCKET_HANDLE h = in.below(8) == 0 ? nullptr : s.handle;
    switch (in.below(9)) {
      case 0: {  // create, from a descriptor of some kind
        if (s.handle != nullptr) {
          break;
        }
        int fds[2] = {-1, -1};
        int fd = -1;
        switch (in.below(5)) {
          case 0:
            fd = INVALID_SOCKET;
            break;
          case 1:
            check(::pipe(fds) == 0, "pipe");
            fd = fds[0];
            break;  // not a socket
          case 2:
            check(::pipe(fds) == 0, "pipe");
            ::close(fds[0]);
            ::close(fds[1]);
            fd = fds[0];
            fds[0] = fds[1] = -1;
            break;  // not open
          default:
            check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0, "socketpair");
            fd = fds[0];
            break;
        }
        const bool is_socket = fds[0] != -1 && fd == fds[0] && fds[1] != -1 && [&] {
          int t = 0;
          socklen_t l = sizeof t;
          return ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &l) == 0;
        }();
        ASYNC_SOCKET_HANDLE created = async_socket_create(in.below(2) == 0 ? nullptr : engine, fd);
        if (!is_socket) {
          check(created == nullptr, "create refuses what is not an open socket");
          if (fds[0] != -1) {
            check(descriptor_open(fds[0]), "a refused descriptor stays open");
            ::close(fds[0]);
          }
          if (fds[1] != -1) {
            ::close(fds[1]);
          }
        } else {
          check(created != nullptr, "create accepts a socket");
          s.handle = created;
          if (s.peer != -1) {
            ::close(s.peer);  // the peer of the slot's earlier socket, destroyed by a step before
          }
          s.peer = fds[1];
        }
        break;
      }
      case 1: {  // open
        auto p = std::make_unique<pending>();
        const bool null_callback = in.below(6) == 0;
        const int r = async_socket_open_async(h, null_callback ? nullptr : on_open, p.get());
        if (h == nullptr || null_callback) {
          check(r != 0, "open with a NULL argument fails");
        }
        if (r != 0) {
          check(p->calls == 0, "a failed open calls nothing");
        } else {
          check(p->calls == 1 && p->result == ASYNC_SOCKET_OPEN_OK, "open calls back before returning");
          kinds.emplace_back(kind::open, p.get());
          accepted.push_back(std::move(p));
        }
        break;
      }
      case 2: {  // send
        auto p = std::make_unique<pending>();
        std::vector<ASYNC_SOCKET_BUFFER> buffers;
        const bool valid_payload = make_payload(in, *p, buffers);
        const bool null_payload = in.below(8) == 0;
        const bool null_callback = in.below(8) == 0;
        const ASYNC_SOCKET_SEND_SYNC_RESULT r = async_socket_send_async(
            h, null_payload ? nullptr : buffers.data(), static_cast<std::uint32_t>(buffers.size()),
            null_callback ? nullptr : on_send, p.get());
        if (h == nullptr || null_payload || null_callback || !valid_payload) {
          check(r == ASYNC_SOCKET_SEND_SYNC_ERROR, "a send with a bad argument is SEND_SYNC_ERROR");
        }
        check(r != ASYNC_SOCKET_SEND_SYNC_NOT_OPEN, "SEND_SYNC_NOT_OPEN is never returned on Linux");
        if (r != ASYNC_SOCKET_SEND_SYNC_OK) {
          check(p->calls == 0, "a refused send calls nothing");
        } else {
          kinds.emplace_back(kind::send, p.get());
          accepted.push_back(std::move(p));
        }
        break;
      }
      case 3: {  // receive
        auto p = std::make_unique<pending>();
        std::vector<ASYNC_SOCKET_BUFFER> buffers;
        const bool valid_payload = make_payload(in, *p, buffers);
        const bool null_payload = in.below(8) == 0;
        const bool null_callback = in.below(8) == 0;
        const int r = async_socket_receive_async(h, null_payload ? nullptr : buffers.data(),
                                                 static_cast<std::uint32_t>(buffers.size()),
                                                 null_callback ? nullptr : on_receive, p.get());
        if (h == nullptr || null_payload || null_callback || !valid_payload) {
          check(r != 0, "a receive with a bad argument fails");
        }
        if (r != 0) {
          check(p->calls == 0, "a refused receive calls nothing");
        } else {
          kinds.emplace_back(kind::receive, p.get());
          accepted.push_back(std::move(p));
        }
        break;
      }
      case 4: {  // notify_io, with a type that may be neither IN nor OUT
        auto p = std::make_unique<pending>();
        const int type = static_cast<int>(in.below(4)) - 1;
        const bool null_callback = in.below(8) == 0;
        const int r = async_socket_notify_io_async(h, static_cast<ASYNC_SOCKET_NOTIFY_IO_TYPE>(type),
                                                   null_callback ? nullptr : on_notify, p.get());
        if (h == nullptr || null_callback ||
            (type != ASYNC_SOCKET_NOTIFY_IO_TYPE_IN && type != ASYNC_SOCKET_NOTIFY_IO_TYPE_OUT)) {
          check(r != 0, "a notify with a bad argument fails");
        }
        if (r != 0) {
          check(p->calls == 0, "a refused notify calls nothing");
        } else {
          kinds.emplace_back(kind::notify, p.get());
          accepted.push_back(std::move(p));
        }
        break;
      }
      case 5:
        async_socket_close(h);
        break;
      case 6:
        async_socket_destroy(h);
        if (h != nullptr) {
          s.handle = nullptr;
        }
        break;
      case 7: {  // the peer writes some bytes
        if (s.peer != -1) {
          std::array<unsigned char, 256> bytes{};
          (void)!::send(s.peer, bytes.data(), 1 + in.below(bytes.size()), MSG_DONTWAIT | MSG_NOSIGNAL);
        }
        break;
      }
      default: {  // the peer reads what it can, or hangs up
        if (s.peer != -1) {
          if (in.below(4) == 0) {
            ::close(s.peer);
            s.peer = -1;
          } else {
            std::array<unsigned char, 4096> sink{};
            while (::recv(s.peer, sink.data(), sink.size(), MSG_DONTWAIT) > 0) {
            }
          }
        }
        break;
      }
    }
  }
  for (slot& s : slots) {
    async_socket_destroy(s.handle);  // completes whatever is pending, with ABANDONED
    if (s.peer != -1) {
      ::close(s.peer);
    }
  }
  for (auto [k, p] : kinds) {
    check(p->calls == 1, "every accepted call completes exactly once");
    const int r = p->result;
    switch (k) {
      case kind::open:
        check(r == ASYNC_SOCKET_OPEN_OK, "open result");
        break;
      case kind::send:
        check(r >= ASYNC_SOCKET_SEND_OK && r <= ASYNC_SOCKET_SEND_ABANDONED, "send result");
        break;
      case kind::receive:
        check(r >= ASYNC_SOCKET_RECEIVE_OK && r <= ASYNC_SOCKET_RECEIVE_ABANDONED, "receive result");
        check(r == ASYNC_SOCKET_RECEIVE_OK ? p->bytes > 0 && p->bytes <= p->capacity : p->bytes == 0,
              "receive byte count");
        break;
      case kind::notify:
        check(r >= ASYNC_SOCKET_NOTIFY_IO_RESULT_IN && r <= ASYNC_SOCKET_NOTIFY_IO_RESULT_ERROR,
              "notify result");
        break;
    }
  }
  execution_engine_dec_ref(engine);
  return 0;
}
