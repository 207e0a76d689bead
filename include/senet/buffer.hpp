// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_BUFFER_HPP
#define SENET_BUFFER_HPP

/** Buffers: `const_buffer`, `mutable_buffer`, the `buffer()` factory, buffer sequences.

    A buffer is a non-owning (pointer, size) pair. A *buffer sequence* is either a single buffer or a
    range whose elements convert to a buffer, as in Boost.Asio and the Networking TS. Operations take
    buffer sequences; the caller keeps the memory they designate valid until the operation completes.

    Both buffer types are layout-compatible with POSIX `struct iovec` (a data pointer, then a
    `std::size_t`), so that a contiguous range of buffers is handed to the kernel in place, without a
    copy: see `senet/detail/iovec_view.hpp`.

    On Windows (the `windows` preset) this header is portable: everything but the `iovec` layout
    guarantee, which is Linux-only (Winsock's `WSABUF` puts a 32-bit length first; no I/O of senet
    hands buffers to Winsock there).
*/

#include <array>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <memory>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#ifndef _WIN32
#include <sys/uio.h>
#endif

namespace senet {

namespace detail {
struct buffer_layout;
}  // namespace detail

/** A non-owning view of writable bytes: a pointer and a size.

    `b += n` and `b + n` advance the start by `n` bytes, or to the end if `n > size()`.
    A `mutable_buffer` converts implicitly to a `const_buffer`.
*/
class mutable_buffer {
 public:
  /** An empty buffer (null data, size 0). */
  constexpr mutable_buffer() noexcept = default;

  /** The `size` bytes starting at `data`. */
  constexpr mutable_buffer(void* data, std::size_t size) noexcept : data_(data), size_(size) {}

  /** The start of the bytes. */
  [[nodiscard]] constexpr void* data() const noexcept { return data_; }

  /** The number of bytes. */
  [[nodiscard]] constexpr std::size_t size() const noexcept { return size_; }

  /** Drops the first `n` bytes (all of them if `n > size()`). */
  mutable_buffer& operator+=(std::size_t n) noexcept {
    std::size_t offset = n < size_ ? n : size_;
    data_ = static_cast<std::byte*>(data_) + offset;
    size_ -= offset;
    return *this;
  }

 private:
  friend struct detail::buffer_layout;
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

/** A non-owning view of read-only bytes: a pointer and a size.

    `b += n` and `b + n` advance the start by `n` bytes, or to the end if `n > size()`.
*/
class const_buffer {
 public:
  /** An empty buffer (null data, size 0). */
  constexpr const_buffer() noexcept = default;

  /** The `size` bytes starting at `data`. */
  constexpr const_buffer(const void* data, std::size_t size) noexcept : data_(data), size_(size) {}

  /** The same bytes as `b`, read-only. */
  constexpr const_buffer(const mutable_buffer& b) noexcept  // NOLINT(google-explicit-constructor)
      : data_(b.data()), size_(b.size()) {}

  /** The start of the bytes. */
  [[nodiscard]] constexpr const void* data() const noexcept { return data_; }

  /** The number of bytes. */
  [[nodiscard]] constexpr std::size_t size() const noexcept { return size_; }

  /** Drops the first `n` bytes (all of them if `n > size()`). */
  const_buffer& operator+=(std::size_t n) noexcept {
    std::size_t offset = n < size_ ? n : size_;
    data_ = static_cast<const std::byte*>(data_) + offset;
    size_ -= offset;
    return *this;
  }

 private:
  friend struct detail::buffer_layout;
  const void* data_ = nullptr;
  std::size_t size_ = 0;
};

/** `b` without its first `n` bytes (empty if `n >= b.size()`). */
[[nodiscard]] inline mutable_buffer operator+(const mutable_buffer& b, std::size_t n) noexcept {
  mutable_buffer r = b;
  r += n;
  return r;
}
/** `b` without its first `n` bytes (empty if `n >= b.size()`). */
[[nodiscard]] inline mutable_buffer operator+(std::size_t n, const mutable_buffer& b) noexcept {
  return b + n;
}
/** `b` without its first `n` bytes (empty if `n >= b.size()`). */
[[nodiscard]] inline const_buffer operator+(const const_buffer& b, std::size_t n) noexcept {
  const_buffer r = b;
  r += n;
  return r;
}
/** `b` without its first `n` bytes (empty if `n >= b.size()`). */
[[nodiscard]] inline const_buffer operator+(std::size_t n, const const_buffer& b) noexcept {
  return b + n;
}

namespace detail {

#ifndef _WIN32
// The buffer types must be usable in place as arrays of iovec: same size, same alignment, and the
// pointer and the length at the same offsets. Checked here, where the private members are visible.
struct buffer_layout {
  template <class Buffer>
  static constexpr bool matches_iovec() noexcept {
    return sizeof(Buffer) == sizeof(::iovec) && alignof(Buffer) == alignof(::iovec) &&
           offsetof(Buffer, data_) == offsetof(::iovec, iov_base) &&
           offsetof(Buffer, size_) == offsetof(::iovec, iov_len) &&
           sizeof(Buffer::data_) == sizeof(::iovec::iov_base) &&
           sizeof(Buffer::size_) == sizeof(::iovec::iov_len);
  }
};

static_assert(buffer_layout::matches_iovec<mutable_buffer>(),
              "mutable_buffer must be layout-compatible with iovec");
static_assert(buffer_layout::matches_iovec<const_buffer>(),
              "const_buffer must be layout-compatible with iovec");
#endif

static_assert(std::is_standard_layout_v<mutable_buffer> && std::is_trivially_copyable_v<mutable_buffer>);
static_assert(std::is_standard_layout_v<const_buffer> && std::is_trivially_copyable_v<const_buffer>);

template <class T>
concept buffer_element = std::is_trivially_copyable_v<T> && !std::is_reference_v<T>;

constexpr std::size_t clamp_size(std::size_t size, std::size_t max_size) noexcept {
  return size < max_size ? size : max_size;
}

}  // namespace detail

// ---- buffer(): creating buffers ---------------------------------------------------------------------

/** A buffer of the `size` bytes at `data`. */
[[nodiscard]] constexpr mutable_buffer buffer(void* data, std::size_t size) noexcept {
  return {data, size};
}
/** A buffer of the `size` bytes at `data`. */
[[nodiscard]] constexpr const_buffer buffer(const void* data, std::size_t size) noexcept {
  return {data, size};
}

/** A copy of `b`. */
[[nodiscard]] constexpr mutable_buffer buffer(const mutable_buffer& b) noexcept {
  return b;
}
/** The first `max_size` bytes of `b` (all of `b` if it is shorter). */
[[nodiscard]] constexpr mutable_buffer buffer(const mutable_buffer& b, std::size_t max_size) noexcept {
  return {b.data(), detail::clamp_size(b.size(), max_size)};
}
/** A copy of `b`. */
[[nodiscard]] constexpr const_buffer buffer(const const_buffer& b) noexcept {
  return b;
}
/** The first `max_size` bytes of `b` (all of `b` if it is shorter). */
[[nodiscard]] constexpr const_buffer buffer(const const_buffer& b, std::size_t max_size) noexcept {
  return {b.data(), detail::clamp_size(b.size(), max_size)};
}

/** The bytes of a C array of trivially copyable elements (a string literal includes its NUL). */
template <detail::buffer_element T, std::size_t N>
[[nodiscard]] constexpr auto buffer(T (&data)[N]) noexcept {
  if constexpr (std::is_const_v<T>) {
    return const_buffer(data, N * sizeof(T));
  } else {
    return mutable_buffer(data, N * sizeof(T));
  }
}
/** At most `max_size` bytes of a C array of trivially copyable elements. */
template <detail::buffer_element T, std::size_t N>
[[nodiscard]] constexpr auto buffer(T (&data)[N], std::size_t max_size) noexcept {
  return buffer(buffer(data), max_size);
}

/** The bytes of a `std::array` of trivially copyable elements. */
template <detail::buffer_element T, std::size_t N>
[[nodiscard]] constexpr mutable_buffer buffer(std::array<T, N>& data) noexcept {
  return {data.data(), N * sizeof(T)};
}
/** At most `max_size` bytes of a `std::array` of trivially copyable elements. */
template <detail::buffer_element T, std::size_t N>
[[nodiscard]] constexpr mutable_buffer buffer(std::array<T, N>& data, std::size_t max_size) noexcept {
  return buffer(buffer(data), max_size);
}
/** The bytes of a `std::array` of trivially copyable elements. */
template <detail::buffer_element T, std::size_t N>
[[nodiscard]] constexpr const_buffer buffer(const std::array<T, N>& data) noexcept {
  return {data.data(), N * sizeof(T)};
}
/** At most `max_size` bytes of a `std::array` of trivially copyable elements. */
template <detail::buffer_element T, std::size_t N>
[[nodiscard]] constexpr const_buffer buffer(const std::array<T, N>& data, std::size_t max_size) noexcept {
  return buffer(buffer(data), max_size);
}

/** The bytes of a `std::vector` of trivially copyable elements (its size, not its capacity). */
template <detail::buffer_element T, class Allocator>
[[nodiscard]] constexpr mutable_buffer buffer(std::vector<T, Allocator>& data) noexcept {
  return {data.data(), data.size() * sizeof(T)};
}
/** At most `max_size` bytes of a `std::vector` of trivially copyable elements. */
template <detail::buffer_element T, class Allocator>
[[nodiscard]] constexpr mutable_buffer buffer(std::vector<T, Allocator>& data,
                                              std::size_t max_size) noexcept {
  return buffer(buffer(data), max_size);
}
/** The bytes of a `std::vector` of trivially copyable elements (its size, not its capacity). */
template <detail::buffer_element T, class Allocator>
[[nodiscard]] constexpr const_buffer buffer(const std::vector<T, Allocator>& data) noexcept {
  return {data.data(), data.size() * sizeof(T)};
}
/** At most `max_size` bytes of a `std::vector` of trivially copyable elements. */
template <detail::buffer_element T, class Allocator>
[[nodiscard]] constexpr const_buffer buffer(const std::vector<T, Allocator>& data,
                                            std::size_t max_size) noexcept {
  return buffer(buffer(data), max_size);
}

/** The characters of a `std::basic_string` (without its terminating NUL). */
template <class CharT, class Traits, class Allocator>
[[nodiscard]] constexpr mutable_buffer buffer(std::basic_string<CharT, Traits, Allocator>& data) noexcept {
  return {data.data(), data.size() * sizeof(CharT)};
}
/** At most `max_size` bytes of a `std::basic_string`. */
template <class CharT, class Traits, class Allocator>
[[nodiscard]] constexpr mutable_buffer buffer(std::basic_string<CharT, Traits, Allocator>& data,
                                              std::size_t max_size) noexcept {
  return buffer(buffer(data), max_size);
}
/** The characters of a `std::basic_string` (without its terminating NUL). */
template <class CharT, class Traits, class Allocator>
[[nodiscard]] constexpr const_buffer buffer(
    const std::basic_string<CharT, Traits, Allocator>& data) noexcept {
  return {data.data(), data.size() * sizeof(CharT)};
}
/** At most `max_size` bytes of a `std::basic_string`. */
template <class CharT, class Traits, class Allocator>
[[nodiscard]] constexpr const_buffer buffer(const std::basic_string<CharT, Traits, Allocator>& data,
                                            std::size_t max_size) noexcept {
  return buffer(buffer(data), max_size);
}

/** The characters of a `std::basic_string_view`. */
template <class CharT, class Traits>
[[nodiscard]] constexpr const_buffer buffer(std::basic_string_view<CharT, Traits> data) noexcept {
  return {data.data(), data.size() * sizeof(CharT)};
}
/** At most `max_size` bytes of a `std::basic_string_view`. */
template <class CharT, class Traits>
[[nodiscard]] constexpr const_buffer buffer(std::basic_string_view<CharT, Traits> data,
                                            std::size_t max_size) noexcept {
  return buffer(buffer(data), max_size);
}

/** The bytes of a `std::span` of trivially copyable elements; read-only if the elements are const. */
template <detail::buffer_element T, std::size_t Extent>
[[nodiscard]] constexpr auto buffer(std::span<T, Extent> data) noexcept {
  if constexpr (std::is_const_v<T>) {
    return const_buffer(data.data(), data.size_bytes());
  } else {
    return mutable_buffer(data.data(), data.size_bytes());
  }
}
/** At most `max_size` bytes of a `std::span` of trivially copyable elements. */
template <detail::buffer_element T, std::size_t Extent>
[[nodiscard]] constexpr auto buffer(std::span<T, Extent> data, std::size_t max_size) noexcept {
  return buffer(buffer(data), max_size);
}

// ---- buffer sequences -------------------------------------------------------------------------------

/** A buffer sequence whose bytes may be read: a `const_buffer` or `mutable_buffer` (or a class
    derived from one), or a range whose elements convert to `const_buffer`.

    Semantic requirements: iterating the sequence twice yields the same buffers; copies of the
    sequence designate the same bytes.
*/
template <class T>
concept const_buffer_sequence = std::derived_from<std::remove_cvref_t<T>, const_buffer> ||
    std::derived_from<std::remove_cvref_t<T>, mutable_buffer> ||
    (std::ranges::range<const std::remove_cvref_t<T>>&&
         std::convertible_to<std::ranges::range_reference_t<const std::remove_cvref_t<T>>, const_buffer>);

/** A buffer sequence whose bytes may be written: a `mutable_buffer` (or a class derived from it), or a
    range whose elements convert to `mutable_buffer`.

    Semantic requirements: as for `const_buffer_sequence`.
*/
template <class T>
concept mutable_buffer_sequence = std::derived_from<std::remove_cvref_t<T>, mutable_buffer> ||
    (std::ranges::range<const std::remove_cvref_t<T>>&&
         std::convertible_to<std::ranges::range_reference_t<const std::remove_cvref_t<T>>, mutable_buffer>);

namespace detail {
template <class T>
concept single_buffer = std::derived_from<std::remove_cvref_t<T>, const_buffer> ||
    std::derived_from<std::remove_cvref_t<T>, mutable_buffer>;

template <class T>
using single_buffer_type = std::conditional_t<std::derived_from<std::remove_cvref_t<T>, mutable_buffer>,
                                              mutable_buffer, const_buffer>;
}  // namespace detail

/** An iterator to the first buffer of `buffers`: a pointer to the buffer itself for a single buffer,
    `std::ranges::begin(buffers)` for a range. */
template <const_buffer_sequence Buffers>
[[nodiscard]] constexpr auto buffer_sequence_begin(const Buffers& buffers) noexcept {
  if constexpr (detail::single_buffer<Buffers>) {
    return static_cast<const detail::single_buffer_type<Buffers>*>(std::addressof(buffers));
  } else {
    return std::ranges::begin(buffers);
  }
}

/** The end iterator matching `buffer_sequence_begin(buffers)`. */
template <const_buffer_sequence Buffers>
[[nodiscard]] constexpr auto buffer_sequence_end(const Buffers& buffers) noexcept {
  if constexpr (detail::single_buffer<Buffers>) {
    return static_cast<const detail::single_buffer_type<Buffers>*>(std::addressof(buffers)) + 1;
  } else {
    return std::ranges::end(buffers);
  }
}

/** The total number of bytes in `buffers`. */
template <const_buffer_sequence Buffers>
[[nodiscard]] constexpr std::size_t buffer_size(const Buffers& buffers) noexcept {
  if constexpr (detail::single_buffer<Buffers>) {
    return static_cast<const detail::single_buffer_type<Buffers>&>(buffers).size();
  } else {
    std::size_t total = 0;
    for (auto it = std::ranges::begin(buffers), end = std::ranges::end(buffers); it != end; ++it) {
      total += const_buffer(*it).size();
    }
    return total;
  }
}

/** Copies bytes from `source` to `target`, at most `max_size` of them, and returns how many were
    copied: the least of `buffer_size(target)`, `buffer_size(source)` and `max_size`.
    The two sequences must not overlap. */
template <mutable_buffer_sequence Target, const_buffer_sequence Source>
std::size_t buffer_copy(const Target& target, const Source& source, std::size_t max_size) noexcept {
  auto t_it = buffer_sequence_begin(target);
  auto t_end = buffer_sequence_end(target);
  auto s_it = buffer_sequence_begin(source);
  auto s_end = buffer_sequence_end(source);
  mutable_buffer t;
  const_buffer s;
  std::size_t copied = 0;
  while (copied < max_size) {
    while (t.size() == 0 && t_it != t_end) {
      t = mutable_buffer(*t_it);
      ++t_it;
    }
    while (s.size() == 0 && s_it != s_end) {
      s = const_buffer(*s_it);
      ++s_it;
    }
    if (t.size() == 0 || s.size() == 0) {
      break;
    }
    std::size_t n = t.size() < s.size() ? t.size() : s.size();
    if (n > max_size - copied) {
      n = max_size - copied;
    }
    std::memcpy(t.data(), s.data(), n);
    t += n;
    s += n;
    copied += n;
  }
  return copied;
}

/** Copies bytes from `source` to `target` and returns how many were copied: the lesser of
    `buffer_size(target)` and `buffer_size(source)`. The two sequences must not overlap. */
template <mutable_buffer_sequence Target, const_buffer_sequence Source>
std::size_t buffer_copy(const Target& target, const Source& source) noexcept {
  return buffer_copy(target, source, static_cast<std::size_t>(-1));
}

}  // namespace senet

#endif  // SENET_BUFFER_HPP
