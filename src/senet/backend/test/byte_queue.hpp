// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_BACKEND_TEST_BYTE_QUEUE_HPP
#define SENET_BACKEND_TEST_BYTE_QUEUE_HPP

/* The buffers of the test backend: a FIFO of bytes that reuses its memory (it only allocates when
   more bytes are buffered than ever before), and a FIFO of datagrams stored in one. */

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include <sys/socket.h>
#include <sys/uio.h>

namespace senet::io::detail::test_sim {

/** A FIFO of bytes: written at the back, read and consumed at the front. */
class byte_queue {
 public:
  [[nodiscard]] std::size_t size() const noexcept { return data_.size() - head_; }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  [[nodiscard]] const std::byte* front() const noexcept { return data_.data() + head_; }

  /** Makes room for `n` more bytes, so that the next appends of `n` bytes do not throw. Throws
      std::bad_alloc. Growth is geometric, and consumed space is reused first. */
  void reserve(std::size_t n) {
    if (data_.size() + n <= data_.capacity()) {
      return;
    }
    if (head_ > 0) {
      data_.erase(data_.begin(), data_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
      if (data_.size() + n <= data_.capacity()) {
        return;
      }
    }
    data_.reserve(std::max(data_.size() + n, data_.capacity() * 2));
  }

  /** Appends `n` bytes; call `reserve(n)` first to make it non-throwing. */
  void append(const void* p, std::size_t n) {
    const auto* b = static_cast<const std::byte*>(p);
    data_.insert(data_.end(), b, b + n);
  }

  /** Drops `n <= size()` bytes from the front. */
  void consume(std::size_t n) noexcept {
    head_ += n;
    if (head_ >= data_.size()) {
      data_.clear();
      head_ = 0;
    }
  }

  void clear() noexcept {
    data_.clear();
    head_ = 0;
  }

 private:
  std::vector<std::byte> data_;
  std::size_t head_ = 0;
};

/** The total size of the buffers of `m`. */
[[nodiscard]] inline std::size_t iov_size(const ::msghdr& m) noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < static_cast<std::size_t>(m.msg_iovlen); ++i) {
    n += m.msg_iov[i].iov_len;
  }
  return n;
}

/** Appends the first `n` bytes of the buffers of `m` to `q` (reserved beforehand). */
inline void gather(const ::msghdr& m, std::size_t n, byte_queue& q) {
  for (std::size_t i = 0; n > 0 && i < static_cast<std::size_t>(m.msg_iovlen); ++i) {
    std::size_t k = std::min(n, m.msg_iov[i].iov_len);
    q.append(m.msg_iov[i].iov_base, k);
    n -= k;
  }
}

/** Copies `n` bytes from `src` into the buffers of `m` (which hold at least `n`). */
inline void scatter(const ::msghdr& m, const std::byte* src, std::size_t n) noexcept {
  for (std::size_t i = 0; n > 0 && i < static_cast<std::size_t>(m.msg_iovlen); ++i) {
    std::size_t k = std::min(n, m.msg_iov[i].iov_len);
    if (k > 0) {
      std::memcpy(m.msg_iov[i].iov_base, src, k);
    }
    src += k;
    n -= k;
  }
}

/** A socket address with its size. */
struct sock_address {
  ::sockaddr_storage storage{};
  ::socklen_t size = 0;

  [[nodiscard]] ::sockaddr* get() noexcept { return static_cast<::sockaddr*>(static_cast<void*>(&storage)); }
  [[nodiscard]] const ::sockaddr* get() const noexcept {
    return static_cast<const ::sockaddr*>(static_cast<const void*>(&storage));
  }
  [[nodiscard]] int family() const noexcept {
    return size >= sizeof(::sa_family_t) ? static_cast<int>(storage.ss_family) : AF_UNSPEC;
  }
};

/** The header of a queued datagram; the payload follows it. */
struct datagram_header {
  std::size_t size = 0;
  /** When it becomes readable, in nanoseconds of the virtual clock. */
  std::int64_t visible_at = 0;
  sock_address from{};
};

/** A FIFO of datagrams, stored in one byte_queue (no allocation per datagram once grown). */
class datagram_queue {
 public:
  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
  /** The payload bytes of all queued datagrams. */
  [[nodiscard]] std::size_t payload_bytes() const noexcept { return payload_; }

  /** Queues a datagram of the first `n` bytes of the buffers of `m`. Throws std::bad_alloc. */
  void push(const datagram_header& h, const ::msghdr& m) {
    bytes_.reserve(sizeof h + h.size);
    bytes_.append(&h, sizeof h);
    gather(m, h.size, bytes_);
    ++count_;
    payload_ += h.size;
  }

  /** The header of the first datagram (the queue is not empty). */
  [[nodiscard]] datagram_header front() const noexcept {
    datagram_header h;
    std::memcpy(&h, bytes_.front(), sizeof h);
    return h;
  }
  /** The payload of the first datagram. */
  [[nodiscard]] const std::byte* front_payload() const noexcept {
    return bytes_.front() + sizeof(datagram_header);
  }

  void pop() noexcept {
    datagram_header h = front();
    bytes_.consume(sizeof h + h.size);
    --count_;
    payload_ -= h.size;
  }

  void clear() noexcept {
    bytes_.clear();
    count_ = 0;
    payload_ = 0;
  }

 private:
  byte_queue bytes_;
  std::size_t count_ = 0;
  std::size_t payload_ = 0;
};

}  // namespace senet::io::detail::test_sim

#endif  // SENET_BACKEND_TEST_BYTE_QUEUE_HPP
