// SPDX-License-Identifier: BSL-1.0
// libFuzzer target for the I/O core, driven through the deterministic test backend
// (`io_context{io::test}`, include/senet/io/test_network.hpp): the input is a program of up to 160
// steps on one context with a listener and up to six TCP sockets, connected through the simulated
// network. Each step is one of: start a send or a receive (any size, 0 included) on a socket;
// request stop on a pending operation; `cancel()`, `close()`, reset or shut down a socket; start or
// stop a timer; move virtual time; connect a new pair (an `async_connect` and an `async_accept`);
// close the listener; change the network's partial-transfer size, send-buffer limit or latency;
// turn the loop (`poll()`). Most steps run in a handler on the loop; some outside it, where starts
// are handed to the loop (and a start on the loop behind them too). At the end every socket and the listener
// are closed and the loop runs until nothing is pending. Checked:
// - every operation started completes exactly once, by the end;
// - it completes with `set_stopped()` only after a stop request on it or a `cancel()` of its
//   socket; with `operation_aborted` when its socket is closed while it waits (`bad_descriptor`
//   when its start was handed to the loop, which had not run it yet); an accept fails only once
//   the listener is closed;
//   on an intact connection (neither end closed, reset or shut down) no send or receive fails and
//   no receive gives 0 (end of stream) for a non-empty buffer;
// - a send reports at most its size and, when it succeeds with a non-empty buffer, at least 1
//   byte; a receive at most its buffer; a timer completes with a value only once virtual time has
//   reached its deadline;
// - sends, and receives, complete in start order on each socket (a value completion comes after
//   every earlier operation of the same direction has completed, but those asked to stop);
// - what each socket received is a prefix of what its peer reported sent (in start order), and,
//   when the loop is idle on an intact connection, sent = received + what the peer has not read
//   (`test_network::buffered`);
// - nothing leaks: after the context and the sockets are gone, every allocation made by the input
//   was freed (the counting allocator) and the process has as many descriptors as before.
#include "fuzz_input.hpp"

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/execution.hpp>
#include <senet/io/io_context.hpp>
#include <senet/io/test_network.hpp>
#include <senet/ip/tcp.hpp>
#include <senet/net/async_accept.hpp>
#include <senet/net/async_connect.hpp>
#include <senet/net/async_receive.hpp>
#include <senet/net/async_send.hpp>
#include <senet/net/async_wait_for.hpp>
#include <senet/net/sockets.hpp>

#include <support/allocation_counter.hpp>
#include <support/test_env.hpp>

#include <dirent.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using senet::fuzz::check;
using senet::ip::tcp;
namespace ex = senet::ex;
namespace io = senet::io;
namespace net = senet::net;
using namespace std::chrono_literals;

constexpr std::size_t socket_slots = 6;

std::size_t open_descriptors() {
  std::size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d) != nullptr) {
      ++n;
    }
    ::closedir(d);
  }
  return n;
}

enum class op_kind { send, receive, timer, accept, connect };
enum class outcome { pending, value, error, stopped };

/** One started operation, as the program sees it. */
struct operation_base {
  operation_base(op_kind k, int s, std::size_t serial) : kind(k), slot(s), serial(serial) {}
  operation_base(const operation_base&) = delete;
  operation_base& operator=(const operation_base&) = delete;
  virtual ~operation_base() = default;

  op_kind kind;
  int slot;             // the socket (send, receive, connect), -1 for the listener and timers
  std::size_t serial;   // start order
  bool intact = false;  // started on an intact connection (see end)
  std::vector<char> buffer;
  io::test_network::clock::time_point deadline{};
  ex::inplace_stop_source stop;
  bool stop_asked = false;  // a stop request, or a cancel() of its socket after it started
  bool socket_closed = false;
  // Its connection was reset or shut down (for a connect: the listener closed) before the close.
  bool broken_at_close = false;
  // Its start was handed to the loop: started outside the loop, or inside it behind such a start.
  bool handed_off = false;

  int completions = 0;
  outcome how = outcome::pending;
  std::size_t bytes = 0;
  std::error_code error{};
  std::optional<tcp::socket> accepted;

  void completed(outcome o) noexcept {
    check(++completions == 1, "an operation completes exactly once");
    how = o;
  }
};

struct program_receiver {
  using receiver_concept = ex::receiver_t;
  operation_base* op;
  io::io_context* ctx;

  void set_value() && noexcept { op->completed(outcome::value); }
  void set_value(std::size_t n) && noexcept {
    op->completed(outcome::value);
    op->bytes = n;
  }
  void set_value(tcp::socket&& s, const tcp::endpoint&) && noexcept {
    op->completed(outcome::value);
    op->accepted.emplace(std::move(s));
  }
  void set_error(std::error_code ec) && noexcept {
    op->completed(outcome::error);
    op->error = ec;
  }
  void set_stopped() && noexcept { op->completed(outcome::stopped); }
  [[nodiscard]] auto get_env() const noexcept {
    return senet::test::make_env(senet::test::scheduler_entry(ctx->get_scheduler()),
                                 senet::test::stop_token_entry(op->stop.get_token()));
  }
};

template <class Sndr>
struct operation final : operation_base {
  template <class Make>
  operation(op_kind k, int s, std::size_t serial, io::io_context& ctx, Make make)
      : operation_base(k, s, serial), state_(ex::connect(make(*this), program_receiver{this, &ctx})) {}
  void start() noexcept { ex::start(state_); }

 private:
  ex::connect_result_t<Sndr, program_receiver> state_;
};

template <class Make>
std::unique_ptr<operation_base> start_operation(op_kind k, int slot, std::size_t serial, io::io_context& ctx,
                                                Make make) {
  using sndr_type = std::invoke_result_t<Make, operation_base&>;
  auto op = std::make_unique<operation<sndr_type>>(k, slot, serial, ctx, make);
  op->handed_off = !io::detail::running_in_this_thread(ctx) || handed_off_starts(ctx).load() != 0;
  op->start();
  return op;
}

/** One socket slot: the socket and what the program knows of its connection. */
struct end {
  std::optional<tcp::socket> sock;
  int peer = -1;           // the slot of the other end, -1 when none
  bool connected = false;  // its connect or accept completed
  bool broken = false;     // this connection was closed, reset or shut down at either end
  // What the sends reported, in start order, and what the receives got; the peer's `sent` is
  // shared, so that it stays checkable after the peer's slot is reused.
  std::shared_ptr<std::string> sent = std::make_shared<std::string>();
  std::shared_ptr<std::string> peer_sent;
  std::string received;
};

class program {
 public:
  explicit program(senet::fuzz::input& in) : in_(in), net_(io::test_network::of(ctx_)) {
    listener_.emplace(tcp::endpoint(senet::ip::address_v4::loopback(), 0));
    listener_ep_ = listener_->local_endpoint();
  }

  void run() {
    connect_pair();
    for (int step = 0; step < 160 && !in_.empty(); ++step) {
      // Most steps run in a handler on the loop, as a program's would; some run outside it, where
      // an operation's start is handed to the loop (and a close before the loop took it gives
      // bad_descriptor, not operation_aborted: see account).
      if (in_.below(4) == 0) {
        one_step();
      } else {
        ctx_.run_until(ex::then(ex::schedule(ctx_.get_scheduler()), [this] { one_step(); }));
      }
      harvest();
    }
    settle();
    check_idle_accounts();
    finish();
  }

 private:
  void one_step() {
    const int s = static_cast<int>(in_.below(socket_slots));
    switch (in_.below(20)) {
      case 0:
      case 1:
      case 2:
        start_send(s);
        break;
      case 3:
      case 4:
      case 5:
        start_receive(s);
        break;
      case 6:
      case 7:
        if (!ops_.empty()) {
          operation_base& op = *ops_[in_.below(ops_.size())];
          op.stop_asked = true;
          op.stop.request_stop();
        }
        break;
      case 8:
        if (slots_[s].sock && slots_[s].sock->is_open()) {
          for (auto& op : ops_) {
            if (op->slot == s) {
              op->stop_asked = true;
            }
          }
          std::error_code ec;
          slots_[s].sock->cancel(ec);
          check(!ec, "cancel() of an open socket succeeds");
        }
        break;
      case 9:
        close(s);
        break;
      case 10:
        if (slots_[s].sock && slots_[s].sock->is_open() && slots_[s].peer >= 0) {
          net_.reset_connection(*slots_[s].sock);
          mark_broken(s);
        }
        break;
      case 11:
        if (slots_[s].sock && slots_[s].sock->is_open() && slots_[s].peer >= 0) {
          static constexpr tcp::socket::shutdown_type how[] = {
              tcp::socket::shutdown_send, tcp::socket::shutdown_receive, tcp::socket::shutdown_both};
          std::error_code ec;
          slots_[s].sock->shutdown(how[in_.below(3)], ec);
          check(!ec, "shutdown of a connected socket succeeds");
          mark_broken(s);
        }
        break;
      case 12:
        start_timer(std::chrono::milliseconds(in_.below(2000)));
        break;
      case 13:
        net_.advance(std::chrono::milliseconds(in_.below(3000)));
        break;
      case 14:
        connect_pair();
        break;
      case 15:
        if (in_.below(4) == 0) {
          close_listener();
        }
        break;
      case 16:
        switch (in_.below(3)) {
          case 0:
            net_.set_max_transfer(in_.below(4) == 0 ? io::test_network::no_limit : 1 + in_.below(300));
            break;
          case 1:
            net_.set_send_buffer_limit(in_.below(4) == 0 ? io::test_network::no_limit : 1 + in_.below(3000));
            break;
          default:
            net_.set_latency(std::chrono::milliseconds(in_.below(4) == 0 ? in_.below(50) : 0));
            break;
        }
        break;
      default:
        ctx_.poll();
        break;
    }
  }

  // ---- operations ----

  void start_send(int s) {
    if (!slots_[s].sock) {
      return;
    }
    const std::size_t size = in_.below(4) == 0 ? 0 : in_.below(2500);
    const std::size_t serial = serial_++;
    tcp::socket& sock = *slots_[s].sock;
    add(start_operation(op_kind::send, s, serial, ctx_, [&](operation_base& op) {
      op.intact = intact(s);
      op.buffer.resize(size);
      for (std::size_t i = 0; i < size; ++i) {
        op.buffer[i] = static_cast<char>((serial * 131 + i * 7 + i / 251) & 0xff);
      }
      return net::async_send(sock, senet::buffer(op.buffer));
    }));
  }

  void start_receive(int s) {
    if (!slots_[s].sock) {
      return;
    }
    const std::size_t size = in_.below(5) == 0 ? 0 : 1 + in_.below(2500);
    tcp::socket& sock = *slots_[s].sock;
    add(start_operation(op_kind::receive, s, serial_++, ctx_, [&](operation_base& op) {
      op.intact = intact(s);
      op.buffer.resize(size);
      return net::async_receive(sock, senet::buffer(op.buffer));
    }));
  }

  void start_timer(std::chrono::milliseconds d) {
    add(start_operation(op_kind::timer, -1, serial_++, ctx_, [&](operation_base& op) {
      op.deadline = net_.now() + d;
      return net::async_wait_for(d);
    }));
  }

  // A new client socket in a free slot, connecting to the listener, and an accept whose socket
  // goes to another free slot when it completes (harvest).
  void connect_pair() {
    int client = free_slot(-1);
    int server = free_slot(client);
    if (client < 0 || server < 0 || !listener_->is_open()) {
      return;
    }
    reuse(client);
    slots_[client].sock.emplace(tcp::v4());
    tcp::socket& sock = *slots_[client].sock;
    reserved_[static_cast<std::size_t>(server)] = true;
    add(start_operation(op_kind::accept, server, serial_++, ctx_,
                        [&](operation_base&) { return net::async_accept(*listener_); }));
    add(start_operation(op_kind::connect, client, serial_++, ctx_,
                        [&](operation_base&) { return net::async_connect(sock, listener_ep_); }));
  }

  void add(std::unique_ptr<operation_base> op) { ops_.push_back(std::move(op)); }

  // Whether slot `s` is one end of a connection that both ends completed and nobody closed, reset
  // or shut down.
  [[nodiscard]] bool intact(int s) const {
    const end& e = slots_[s];
    return e.connected && !e.broken && e.peer >= 0 && slots_[e.peer].connected && slots_[e.peer].sock &&
           slots_[e.peer].sock->is_open();
  }

  // Makes slot `s` (closed, nothing pending) a fresh end; its old peer keeps its record.
  void reuse(int s) {
    check_received(slots_[s]);
    if (slots_[s].peer >= 0 && slots_[slots_[s].peer].peer == s) {
      slots_[slots_[s].peer].peer = -1;
    }
    slots_[s] = end{};
  }

  int free_slot(int besides) const {
    for (std::size_t i = 0; i < socket_slots; ++i) {
      const auto& e = slots_[i];
      if (static_cast<int>(i) != besides && !reserved_[i] && (!e.sock || !e.sock->is_open()) &&
          !has_pending(static_cast<int>(i))) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }

  [[nodiscard]] bool has_pending(int s) const {
    for (const auto& op : ops_) {
      if (op->slot == s && op->kind != op_kind::timer) {
        return true;
      }
    }
    return false;
  }

  void close(int s) {
    end& e = slots_[s];
    if (!e.sock || !e.sock->is_open()) {
      return;
    }
    for (auto& op : ops_) {
      if (op->slot == s && op->kind != op_kind::accept) {
        op->socket_closed = true;
        op->broken_at_close = e.broken || (op->kind == op_kind::connect && !listener_->is_open());
      }
    }
    mark_broken(s);
    std::error_code ec;
    e.sock->close(ec);
    check(!ec, "close of an open socket succeeds");
  }

  void close_listener() {
    if (!listener_ || !listener_->is_open()) {
      return;
    }
    for (auto& op : ops_) {
      if (op->kind == op_kind::accept) {
        op->socket_closed = true;
      }
    }
    std::error_code ec;
    listener_->close(ec);
    check(!ec, "close of the listener succeeds");
  }

  void mark_broken(int s) {
    slots_[s].broken = true;
    if (slots_[s].peer >= 0) {
      slots_[slots_[s].peer].broken = true;
    }
  }

  // ---- completions ----

  // Checks and accounts for every completed operation, in start order, and forgets it.
  void harvest() {
    for (std::size_t i = 0; i < ops_.size();) {
      operation_base& op = *ops_[i];
      if (op.how == outcome::pending) {
        ++i;
        continue;
      }
      account(op, i);
      ops_.erase(ops_.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }

  void account(operation_base& op, std::size_t index) {
    check(op.how != outcome::stopped || op.stop_asked, "set_stopped() only after a stop request or cancel()");
    if (op.how == outcome::error && op.socket_closed) {
      // Closed while it waited: operation_aborted. Unless it had failed already (its connection
      // was not intact when it started, or was reset or shut down since, or its listener closed:
      // the result waited in the ready queue behind an earlier one of its direction), or its start
      // was handed to the loop, which had not run it yet: then it finds the descriptor closed
      // (bad_descriptor), or open again (a handed-off connect opens a closed socket), and fails as it may
      // there.
      const std::error_code& e = op.error;
      const bool earlier = (op.broken_at_close || !op.intact) &&
                           (e == std::errc::connection_reset || e == std::errc::broken_pipe ||
                            e == std::errc::not_connected || e == std::errc::connection_refused);
      const bool late = op.handed_off;
      check(e == senet::error::operation_aborted || earlier || late,
            "an operation whose socket is closed while it waits fails with operation_aborted");
    }
    if (op.how == outcome::value && (op.kind == op_kind::send || op.kind == op_kind::receive)) {
      // (An earlier one asked to stop moves no bytes, and its set_stopped() may still wait in the
      // ready queue when its stop came before the loop started it.)
      for (std::size_t j = 0; j < index; ++j) {
        check(ops_[j]->slot != op.slot || ops_[j]->kind != op.kind || ops_[j]->stop_asked,
              "operations of one direction complete in start order");
      }
    }
    switch (op.kind) {
      case op_kind::send:
      case op_kind::receive:
        account_transfer(op);
        break;
      case op_kind::timer:
        check(op.how != outcome::error, "a timer does not fail");
        check(op.how != outcome::value || net_.now() >= op.deadline,
              "a timer fires at its deadline, not before");
        break;
      case op_kind::accept:
        reserved_[static_cast<std::size_t>(op.slot)] = false;
        if (op.how == outcome::value) {
          check(op.accepted && op.accepted->is_open(), "accept gives an open socket");
          place_accepted(op);
        } else if (op.how == outcome::error) {
          check(op.socket_closed, "accept fails only when the listener was closed");
        }
        break;
      case op_kind::connect:
        if (op.how == outcome::value) {
          slots_[op.slot].connected = true;
        }
        break;
    }
  }

  void account_transfer(operation_base& op) {
    end& e = slots_[op.slot];
    const bool intact = op.intact && !e.broken && !op.socket_closed;
    if (op.how == outcome::error) {
      check(!intact, "no send or receive fails on an intact connection");
      return;
    }
    if (op.how != outcome::value) {
      return;
    }
    check(op.bytes <= op.buffer.size(), "a transfer reports at most its buffer");
    if (op.kind == op_kind::send) {
      check(op.buffer.empty() || op.bytes > 0, "a successful non-empty send moves at least a byte");
      e.sent->append(op.buffer.data(), op.bytes);
    } else {
      check(op.buffer.empty() || op.bytes > 0 || !intact,
            "end of stream only on a closed, reset or shut down connection");
      e.received.append(op.buffer.data(), op.bytes);
    }
  }

  // The accepted socket's peer is the client whose local endpoint it reports.
  void place_accepted(operation_base& op) {
    const int server = op.slot;
    tcp::endpoint peer_ep = net_.remote_endpoint(*op.accepted);
    int client = -1;
    for (std::size_t i = 0; i < socket_slots; ++i) {
      std::error_code ec;
      if (static_cast<int>(i) != server && slots_[i].sock && slots_[i].sock->is_open() &&
          slots_[i].sock->local_endpoint(ec) == peer_ep && !ec) {
        client = static_cast<int>(i);
      }
    }
    reuse(server);
    slots_[server].sock.emplace(std::move(*op.accepted));
    slots_[server].connected = true;
    op.accepted.reset();
    if (client >= 0) {
      slots_[server].peer = client;
      slots_[client].peer = server;
      slots_[server].peer_sent = slots_[client].sent;
      slots_[client].peer_sent = slots_[server].sent;
      if (slots_[client].broken) {
        slots_[server].broken = true;
      }
    } else {
      // The client was closed before the accept was harvested: the connection is not intact.
      slots_[server].broken = true;
    }
  }

  // ---- the end ----

  // Turns the loop until it has nothing more to do at once (virtual time does not move).
  void settle() {
    for (int i = 0; i < 64 && ctx_.poll() != 0; ++i) {
      harvest();
    }
    harvest();
  }

  // At rest, on an intact connection, every byte reported sent was received or is still unread.
  void check_idle_accounts() {
    if (net_.latency() != io::test_network::clock::duration::zero()) {
      return;  // bytes in flight are counted by buffered() too, but a send may still wait for them
    }
    for (std::size_t i = 0; i < socket_slots; ++i) {
      const end& e = slots_[i];
      if (!intact(static_cast<int>(i))) {
        continue;
      }
      check(slots_[e.peer].sent->size() == e.received.size() + net_.buffered(*e.sock),
            "sent = received + unread, on an intact connection at rest");
    }
  }

  void finish() {
    // Everything still pending must complete once its socket is closed or its stop is requested.
    for (std::size_t i = 0; i < socket_slots; ++i) {
      close(static_cast<int>(i));
    }
    close_listener();
    for (auto& op : ops_) {
      if (op->kind == op_kind::timer && in_.below(2) == 0) {
        op->stop_asked = true;
        op->stop.request_stop();
      }
    }
    // Timers not stopped fire as virtual time moves on to their deadlines.
    for (int i = 0; i < 1000 && !ops_.empty(); ++i) {
      if (ctx_.poll() == 0) {
        net_.advance(1s);
      }
      harvest();
    }
    check(ops_.empty(), "every started operation completes");
    for (const end& e : slots_) {
      check_received(e);
    }
  }

  static void check_received(const end& e) {
    if (e.peer_sent) {
      const std::string& from = *e.peer_sent;
      check(e.received.size() <= from.size() && from.compare(0, e.received.size(), e.received) == 0,
            "what a socket received is a prefix of what its peer sent");
    }
  }

  senet::fuzz::input& in_;
  io::io_context ctx_{io::test};
  io::test_network& net_;
  std::optional<tcp::acceptor> listener_;
  tcp::endpoint listener_ep_;
  std::array<end, socket_slots> slots_{};
  std::array<bool, socket_slots> reserved_{};
  std::vector<std::unique_ptr<operation_base>> ops_;
  std::size_t serial_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::size_t descriptors = open_descriptors();
  {
    senet::test::allocation_scope scope;
    {
      senet::fuzz::input in(data, size);
      program p(in);
      p.run();
    }
    check(scope.count() == scope.deallocations(), "every allocation made by the input was freed");
  }
  check(open_descriptors() == descriptors, "no descriptor leaked");
  return 0;
}
