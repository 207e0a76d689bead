// SPDX-License-Identifier: BSL-1.0
// libFuzzer target for buffer-sequence arithmetic and the iovec conversion: the input describes a
// sequence of buffers (count, offsets, sizes, zero sizes included) over a block of memory, a
// target sequence to copy into, and a series of partial transfers. Checked against a plain
// byte-by-byte reference:
// - `buffer_size` of the sequence, and `b + n` / `b += n` (clamped to the end);
// - `iovec_view` used in place (a vector of buffers) and copied (a list), including the copied
//   form's `argument_list_too_long` past its capacity, which leaves the view empty;
// - `buffer_copy` with and without a maximum, into a target of another shape: the bytes copied and
//   their count;
// - the transfer window of `async_read`/`async_write` (`consuming_buffers`): after any series of
//   partial transfers, its window is the next (at most 16) non-empty pieces of what is left, in
//   order, and it is empty exactly when everything has been transferred.
#include "fuzz_input.hpp"

#include <senet/buffer.hpp>
#include <senet/detail/iovec_view.hpp>
#include <senet/net/detail/transfer_all.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <list>
#include <string>
#include <vector>

namespace {

using senet::fuzz::check;

constexpr std::size_t block_size = 4096;

// The bytes a sequence designates, in order.
template <class Buffers>
std::string flatten(const Buffers& buffers) {
  std::string s;
  for (const auto& b : buffers) {
    senet::const_buffer c(b);
    s.append(static_cast<const char*>(c.data()), c.size());
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  senet::fuzz::input in(data, size);
  static std::array<char, block_size> block = [] {
    std::array<char, block_size> b{};
    for (std::size_t i = 0; i < b.size(); ++i) {
      b[i] = static_cast<char>('a' + i % 26 + (i / 26) % 7);
    }
    return b;
  }();

  // The source sequence: up to 40 buffers, each anywhere in the block, sizes up to 300 (0 often).
  std::vector<senet::const_buffer> source;
  const std::size_t count = in.below(41);
  for (std::size_t i = 0; i < count; ++i) {
    std::size_t offset = in.below(block_size);
    std::size_t length = in.below(4) == 0 ? 0 : in.below(301);
    length = std::min(length, block_size - offset);
    source.emplace_back(block.data() + offset, length);
  }
  const std::string expected = flatten(source);
  check(senet::buffer_size(source) == expected.size(), "buffer_size of a vector");

  // b + n and b += n advance, clamped to the end.
  if (!source.empty()) {
    senet::const_buffer b = source[in.below(source.size())];
    std::size_t n = in.below(400);
    senet::const_buffer c = b + n;
    std::size_t moved = std::min(n, b.size());
    check(c.size() == b.size() - moved, "b + n size");
    check(c.data() == static_cast<const char*>(b.data()) + moved, "b + n data");
    senet::const_buffer d = b;
    d += n;
    check(d.data() == c.data() && d.size() == c.size(), "b += n is b + n");
  }

  // iovec_view in place: every entry, zero sizes kept, the caller's array itself.
  {
    senet::detail::iovec_view<> view(source);
    check(!view.error(), "in-place view of <= 40 buffers fits");
    check(view.size() == source.size() && view.bytes() == expected.size(), "in-place view counts");
    check(source.empty() || view.in_place(), "a vector of buffers is used in place");
    std::string seen;
    for (std::size_t i = 0; i < view.size(); ++i) {
      seen.append(static_cast<const char*>(view.data()[i].iov_base), view.data()[i].iov_len);
    }
    check(seen == expected, "in-place view bytes");
  }
  // iovec_view copied from a list: up to capacity entries, else empty with argument_list_too_long.
  {
    std::list<senet::const_buffer> listed(source.begin(), source.end());
    senet::detail::iovec_view<> view(listed);
    if (listed.size() > view.capacity()) {
      check(view.error() == std::errc::argument_list_too_long, "too long list reports the error");
      check(view.size() == 0 && view.bytes() == 0, "too long list leaves the view empty");
    } else {
      check(!view.error() && !view.in_place(), "a short list is copied inline");
      check(view.size() == listed.size() && view.bytes() == expected.size(), "copied view counts");
      std::string seen;
      for (std::size_t i = 0; i < view.size(); ++i) {
        seen.append(static_cast<const char*>(view.data()[i].iov_base), view.data()[i].iov_len);
      }
      check(seen == expected, "copied view bytes");
    }
  }

  // buffer_copy into a target of another shape, with and without a maximum.
  {
    std::vector<char> storage(in.below(2048));
    std::vector<senet::mutable_buffer> target;
    std::size_t at = 0;
    while (at < storage.size()) {
      std::size_t piece = std::min(storage.size() - at, in.below(200));
      target.emplace_back(storage.data() + at, piece);
      at += piece;
      if (piece == 0 && in.empty()) {
        target.emplace_back(storage.data() + at, storage.size() - at);
        break;
      }
    }
    const bool limited = in.below(2) == 1;
    const std::size_t max = in.below(3000);
    const std::size_t copied =
        limited ? senet::buffer_copy(target, source, max) : senet::buffer_copy(target, source);
    std::size_t want = std::min(expected.size(), senet::buffer_size(target));
    if (limited) {
      want = std::min(want, max);
    }
    check(copied == want, "buffer_copy count");
    check(copied == 0 || std::memcmp(storage.data(), expected.data(), copied) == 0, "buffer_copy bytes");
  }

  // The transfer window after a series of partial transfers.
  {
    senet::net::detail::consuming_buffers<senet::const_buffer, std::vector<senet::const_buffer>> rest(source);
    std::size_t done = 0;
    for (int step = 0; step < 64; ++step) {
      auto window = rest.prepare();
      // The reference: the non-empty pieces of what is left, the first 16 of them.
      std::string window_bytes;
      std::size_t pieces = 0;
      for (const auto& b : window) {
        check(b.size() != 0, "no empty piece in the window");
        window_bytes.append(static_cast<const char*>(b.data()), b.size());
        ++pieces;
      }
      check(pieces <= senet::net::detail::transfer_window_size, "window size");
      check(expected.compare(done, window_bytes.size(), window_bytes) == 0,
            "window holds what is left, in order");
      check(window.empty() == (done == expected.size()), "window empty exactly at the end");
      if (window.empty()) {
        break;
      }
      // A partial transfer of at most the window's bytes (a kernel never moves more).
      std::size_t n = 1 + in.below(window_bytes.size());
      rest.consume(n);
      done += n;
    }
  }
  return 0;
}
