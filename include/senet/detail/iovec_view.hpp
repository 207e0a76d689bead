// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_DETAIL_IOVEC_VIEW_HPP
#define SENET_DETAIL_IOVEC_VIEW_HPP

#ifdef _WIN32
#error \
    "senet/detail/iovec_view.hpp is Linux-only (iovec, for readv/writev/sendmsg); senet/buffer.hpp is portable"
#endif

#include <senet/buffer.hpp>

#include <array>
#include <climits>
#include <cstddef>
#include <ranges>
#include <system_error>
#include <type_traits>

#include <sys/uio.h>

namespace senet::detail {

/** The most `iovec` entries one system call accepts (`IOV_MAX`; 1024 on Linux). */
#ifdef IOV_MAX
inline constexpr std::size_t iov_max = IOV_MAX;
#else
inline constexpr std::size_t iov_max = 1024;
#endif

/** The default number of `iovec` entries an `iovec_view` holds inline. */
inline constexpr std::size_t default_iovec_capacity = 16;

/** A range of buffers that an `iovec_view` uses in place: contiguous, sized, of exactly
    `const_buffer` or `mutable_buffer` (layout-compatible with `iovec`). */
template <class B>
concept iovec_in_place_range = std::ranges::contiguous_range<const B> && std::ranges::sized_range<const B> &&
    (std::is_same_v<std::remove_cv_t<std::ranges::range_value_t<const B>>, const_buffer> ||
     std::is_same_v<std::remove_cv_t<std::ranges::range_value_t<const B>>, mutable_buffer>);

/** A buffer sequence as an array of `iovec`, for `readv`/`writev`/`sendmsg`/`recvmsg`, without
    allocating. Meant to be a member of an operation state (for senet's operations).

    How the array is obtained, by the kind of sequence:
    - a contiguous, sized range whose elements are exactly `const_buffer` or `mutable_buffer`
      (`std::vector<const_buffer>`, `std::array<mutable_buffer, N>`, `std::span<const const_buffer>`,
      a C array of buffers): used in place, because both buffer types are layout-compatible with
      `iovec`. `data()` then points at the caller's buffers, which must outlive the view; the limit
      is `iov_max` entries, not `Capacity`.
    - a single buffer: copied into the view's first inline entry.
    - any other range (a `std::list<const_buffer>`, a range of types convertible to buffers): copied
      into the `Capacity` inline entries of the view.

    A sequence that does not fit (more than `Capacity` entries when copied, more than `iov_max` in
    place) is not truncated: the view is left empty and `error()` (also returned by `assign`) is
    `std::errc::argument_list_too_long`. Zero-size buffers are kept as entries.

    The view may be copied (a copy of an inline view points at its own storage). The `iovec` array
    is for handing to the kernel: `data()` is non-const because `msghdr::msg_iov` is, but the
    entries must not be written through it, since for an in-place view they are the caller's
    buffer objects (possibly `const_buffer`s).

    `Capacity` must be between 1 and `iov_max`; 16 entries (256 bytes) is the default.
*/
template <std::size_t Capacity = default_iovec_capacity>
class iovec_view {
  static_assert(Capacity >= 1 && Capacity <= iov_max, "iovec_view capacity must be in [1, IOV_MAX]");

 public:
  /** An empty view: no entries, no error. */
  iovec_view() noexcept = default;

  /** A view of `buffers`; check `error()`. */
  template <const_buffer_sequence Buffers>
  explicit iovec_view(const Buffers& buffers) noexcept {
    assign(buffers);
  }

  /** Makes this a view of `buffers`; returns (and keeps in `error()`) the error if they do not fit,
      leaving the view empty. */
  template <const_buffer_sequence Buffers>
  std::error_code assign(const Buffers& buffers) noexcept {
    return try_assign(buffers) ? std::error_code() : error();
  }

  /** `assign` without building a `std::error_code` (operation states call it on every start):
      true when `buffers` fit, false (and `error()` set) when they do not. */
  template <const_buffer_sequence Buffers>
  bool try_assign(const Buffers& buffers) noexcept {
    clear();
    using B = std::remove_cvref_t<Buffers>;
    if constexpr (single_buffer<B>) {
      const_buffer b = static_cast<const single_buffer_type<B>&>(buffers);
      storage_[0] = make_iovec(b);
      count_ = 1;
      bytes_ = b.size();
    } else if constexpr (in_place_range<B>) {
      std::size_t n = static_cast<std::size_t>(std::ranges::size(buffers));
      if (n > iov_max) {
        return fail();
      }
      // The buffer types are layout-compatible with iovec (checked in buffer.hpp), so the caller's
      // array of buffers is the array of iovec the kernel reads.
      external_ =
          reinterpret_cast<::iovec*>(const_cast<void*>(static_cast<const void*>(std::ranges::data(buffers))));
      count_ = n;
      for (std::size_t i = 0; i < n; ++i) {
        bytes_ += external_[i].iov_len;
      }
    } else {
      for (auto it = std::ranges::begin(buffers), end = std::ranges::end(buffers); it != end; ++it) {
        if (count_ == Capacity) {
          return fail();
        }
        const_buffer b(*it);
        storage_[count_++] = make_iovec(b);
        bytes_ += b.size();
      }
    }
    return true;
  }

  /** The first `iovec` entry (valid for `size()` entries). */
  [[nodiscard]] ::iovec* data() const noexcept {
    return external_ != nullptr ? external_ : const_cast<::iovec*>(storage_.data());
  }

  /** The number of `iovec` entries (0 after an error). */
  [[nodiscard]] std::size_t size() const noexcept { return count_; }

  /** The total number of bytes the entries designate. */
  [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }

  /** True when `data()` points at the caller's buffers rather than at inline storage. */
  [[nodiscard]] bool in_place() const noexcept { return external_ != nullptr; }

  /** `std::errc::argument_list_too_long` if the last `assign` did not fit, else no error. */
  [[nodiscard]] std::error_code error() const noexcept {
    return too_long_ ? std::make_error_code(std::errc::argument_list_too_long) : std::error_code();
  }

  /** The number of entries held inline. */
  [[nodiscard]] static constexpr std::size_t capacity() noexcept { return Capacity; }

 private:
  template <class B>
  static constexpr bool in_place_range = iovec_in_place_range<B>;

  static ::iovec make_iovec(const_buffer b) noexcept {
    ::iovec v;
    v.iov_base = const_cast<void*>(b.data());
    v.iov_len = b.size();
    return v;
  }

  void clear() noexcept {
    external_ = nullptr;
    count_ = 0;
    bytes_ = 0;
    too_long_ = false;
  }

  bool fail() noexcept {
    clear();
    too_long_ = true;
    return false;
  }

  std::array<::iovec, Capacity> storage_{};
  ::iovec* external_ = nullptr;
  std::size_t count_ = 0;
  std::size_t bytes_ = 0;
  bool too_long_ = false;
};

/** The capacity an `iovec_view` of `Buffers` needs: one entry for a single buffer or a range used
    in place, `default_iovec_capacity` for other ranges. */
template <class Buffers>
inline constexpr std::size_t iovec_capacity_for =
    single_buffer<std::remove_cvref_t<Buffers>> || iovec_in_place_range<std::remove_cvref_t<Buffers>>
        ? 1
        : default_iovec_capacity;

}  // namespace senet::detail

#endif  // SENET_DETAIL_IOVEC_VIEW_HPP
