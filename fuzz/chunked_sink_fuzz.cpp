// SPDX-License-Identifier: BSL-1.0
// libFuzzer target for `stream::chunked_sink`, checked against a chunked-coding decoder written
// here (it shares no code with the encoder). The input is a script for the stream below (a
// `scripted_stream`: partial writes of chosen sizes, suspensions until the next turn of the I/O
// context, injected errors) and a program of up to 48 sink operations (`write`, `write_some`,
// `write_eof(buffers)`, `write_eof()`, `reset()`) on buffer sequences of up to 20 pieces, empty
// pieces included. Checked, for every operation:
// - what it reported: on success `n` is the caller's byte count; on a stream error the error and
//   the data bytes that reached the stream (0 for `write_some`); an empty `write` is `(no error,
//   0)`; after a successful `write_eof` every operation fails with `write_after_eof`, and after an
//   error every operation fails with that error, until `reset()`; neither writes a byte;
// - what it wrote, decoded: a successful write is exactly one chunk holding the caller's bytes in
//   order (followed by the last chunk `0\r\n\r\n` for `write_eof(buffers)`), `write_eof()` exactly
//   the last chunk, with the chunk-size in lower-case hex without leading zeros; a failed write is
//   a prefix of that encoding, and the data bytes inside that prefix are the `n` it reported;
// - the operations' outputs follow each other in the stream with nothing in between.
#include "fuzz_input.hpp"

#include <senet/buffer.hpp>
#include <senet/error.hpp>
#include <senet/io/io_context.hpp>
#include <senet/stream/chunked_sink.hpp>
#include <senet/task.hpp>

#include <support/scripted_stream.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <vector>

namespace {

using senet::fuzz::check;
using senet::stream::chunked_sink;
using senet::test::scripted_stream;

// ---- the decoder ----------------------------------------------------------------------------------

/** One chunk of chunked coding (RFC 9112 §7.1) parsed from the front of `wire`: its data, or
    nullopt when `wire` does not start with a complete, canonical chunk (lower-case hex size without
    leading zeros, CRLF, the data, CRLF; the last chunk is "0\r\n\r\n", without trailer fields).
    `used` gets the bytes the chunk took. */
std::optional<std::string_view> parse_chunk(std::string_view wire, std::size_t& used) {
  std::size_t i = 0;
  std::size_t size = 0;
  while (i < wire.size() && i < 16 &&
         ((wire[i] >= '0' && wire[i] <= '9') || (wire[i] >= 'a' && wire[i] <= 'f'))) {
    size = size * 16 + static_cast<std::size_t>(wire[i] <= '9' ? wire[i] - '0' : wire[i] - 'a' + 10);
    ++i;
  }
  if (i == 0 || (i > 1 && wire[0] == '0')) {
    return std::nullopt;
  }
  if (wire.substr(i, 2) != "\r\n") {
    return std::nullopt;
  }
  i += 2;
  if (size == 0) {
    // The last chunk: an empty trailer section, then the final CRLF.
    if (wire.substr(i, 2) != "\r\n") {
      return std::nullopt;
    }
    used = i + 2;
    return std::string_view();
  }
  if (wire.size() - i < size + 2 || wire.substr(i + size, 2) != "\r\n") {
    return std::nullopt;
  }
  used = i + size + 2;
  return wire.substr(i, size);
}

/** The encoding an operation must write: `data` as one chunk (none when empty), then the last
    chunk when `eof`. Built from the decoder's rules, so that it is checked by them too. */
std::string expected_wire(std::string_view data, bool eof) {
  std::string out;
  if (!data.empty()) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string digits;
    for (std::size_t n = data.size(); n != 0; n >>= 4) {
      digits.insert(digits.begin(), hex[n & 0xf]);
    }
    out = digits + "\r\n";
    out.append(data);
    out += "\r\n";
  }
  if (eof) {
    out += "0\r\n\r\n";
  }
  return out;
}

/** Checks that `wire` is exactly the encoding of `data` (and the last chunk when `eof`), by
    decoding it. */
void check_decodes(std::string_view wire, std::string_view data, bool eof) {
  if (!data.empty()) {
    std::size_t used = 0;
    std::optional<std::string_view> chunk = parse_chunk(wire, used);
    check(chunk && !chunk->empty(), "a write is one well-formed data chunk");
    check(*chunk == data, "the chunk holds the caller's bytes in order");
    wire.remove_prefix(used);
  }
  if (eof) {
    std::size_t used = 0;
    std::optional<std::string_view> last = parse_chunk(wire, used);
    check(last && last->empty(), "write_eof ends with the last chunk");
    wire.remove_prefix(used);
  }
  check(wire.empty(), "nothing after the operation's chunks");
}

// ---- the program --------------------------------------------------------------------------------

enum class op_kind { write, write_some, write_eof_data, write_eof, reset };

/** The sink's state as the documentation describes it. */
struct model {
  bool finished = false;
  std::error_code error{};
};

// A block the buffers point into: distinct bytes, so that a reordering shows.
const std::array<char, 4096>& pattern() {
  static const std::array<char, 4096> block = [] {
    std::array<char, 4096> b{};
    for (std::size_t i = 0; i < b.size(); ++i) {
      b[i] = static_cast<char>(' ' + (i * 7 + i / 95) % 95);
    }
    return b;
  }();
  return block;
}

senet::task<void> run_program(senet::fuzz::input& in, scripted_stream& s,
                              chunked_sink<scripted_stream>& sink) {
  model m;
  const auto& block = pattern();
  for (int step = 0; step < 48 && !in.empty(); ++step) {
    const auto kind = static_cast<op_kind>(in.below(5));
    if (kind == op_kind::reset) {
      sink.reset();
      m = model{};
      continue;
    }
    std::vector<senet::const_buffer> buffers;
    std::string data;
    if (kind != op_kind::write_eof) {
      const std::size_t count = in.below(21);
      for (std::size_t i = 0; i < count; ++i) {
        const std::size_t offset = in.below(block.size());
        std::size_t length = in.below(3) == 0 ? 0 : in.below(600);
        length = std::min(length, block.size() - offset);
        buffers.emplace_back(block.data() + offset, length);
        data.append(block.data() + offset, length);
      }
    }
    const std::size_t before = s.written().size();
    std::error_code ec;
    std::size_t n = 0;
    switch (kind) {
      case op_kind::write:
        std::tie(ec, n) = co_await sink.write(buffers);
        break;
      case op_kind::write_some:
        std::tie(ec, n) = co_await sink.write_some(buffers);
        break;
      case op_kind::write_eof_data:
        std::tie(ec, n) = co_await sink.write_eof(buffers);
        break;
      default:
        std::tie(ec) = co_await sink.write_eof();
        break;
    }
    const std::string_view wrote = std::string_view(s.written()).substr(before);
    const bool eof = kind == op_kind::write_eof_data || kind == op_kind::write_eof;

    if (m.finished || m.error) {
      const std::error_code want = m.finished ? make_error_code(senet::error::write_after_eof) : m.error;
      check(ec == want, "a finished or failed sink refuses with its documented error");
      check(n == 0 && wrote.empty(), "a refused operation writes nothing");
      continue;
    }
    if (data.empty() && !eof) {
      check(!ec && n == 0 && wrote.empty(), "an empty write completes at once with (no error, 0)");
      continue;
    }
    const std::string full = expected_wire(data, eof);
    if (!ec) {
      check(n == data.size(), "a successful write reports the caller's bytes");
      check_decodes(wrote, data, eof);
      m.finished = eof;
      continue;
    }
    // A stream error: the chunk was cut. What reached the stream is a prefix of the encoding, and
    // n counts the data bytes inside that prefix (write_some reports 0).
    check(wrote.size() < full.size() && full.compare(0, wrote.size(), wrote) == 0,
          "a failed write wrote a prefix of its encoding");
    const std::size_t header = data.empty() ? 0 : full.size() - data.size() - 2 - (eof ? 5 : 0);
    const std::size_t in_prefix = wrote.size() <= header ? 0 : std::min(wrote.size() - header, data.size());
    check(n == (kind == op_kind::write_some ? 0 : in_prefix), "a failed write reports the data bytes sent");
    m.error = ec;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  senet::fuzz::input in(data, size);
  // One context for the process: its creation is not what is tested, and would slow the fuzzer.
  static senet::io::io_context ctx{senet::io::backend_kind::epoll};

  scripted_stream s;
  // The stream's script: up to 24 steps, then whole writes at once. A suspending step completes on
  // the next turn of the context.
  const std::size_t steps = in.below(25);
  for (std::size_t i = 0; i < steps; ++i) {
    senet::test::script_step step;
    switch (in.below(8)) {
      case 0:
        step.error = make_error_code(std::errc::broken_pipe);
        break;
      case 1:
      case 2:
      case 3:
        step.max_bytes = 1 + in.below(40);
        break;
      default:
        break;
    }
    step.suspend = in.below(2) == 1;
    s.script_writes({step});
  }
  chunked_sink<scripted_stream> sink(s);
  auto done = ctx.run_until(run_program(in, s, sink));
  check(done.has_value(), "the program completes (the context is never stopped)");
  return 0;
}
