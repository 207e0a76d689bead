// SPDX-License-Identifier: BSL-1.0
// What the fuzz targets share: a reader that turns the fuzzer's bytes into choices, and a check that
// aborts (libFuzzer then saves the input that broke the invariant).
#ifndef SENET_FUZZ_FUZZ_INPUT_HPP
#define SENET_FUZZ_FUZZ_INPUT_HPP

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace senet::fuzz {

/** Aborts with `what` when `condition` is false. */
inline void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

/** Hands out the fuzzer's bytes as small numbers and byte runs; once they run out it gives zeros,
    so every input is a complete (if short) program. */
class input {
 public:
  input(const std::uint8_t* data, std::size_t size) noexcept : data_(data), size_(size) {}

  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

  /** One byte, or 0 when the input is exhausted. */
  std::uint8_t byte() noexcept {
    if (size_ == 0) {
      return 0;
    }
    --size_;
    return *data_++;
  }

  /** A number in [0, bound) (bound > 0), from up to two bytes. */
  std::size_t below(std::size_t bound) noexcept {
    std::size_t v = byte();
    if (bound > 256) {
      v = v << 8 | byte();
    }
    return v % bound;
  }

  /** Up to `max` of the next bytes, as text. */
  std::string_view take(std::size_t max) noexcept {
    std::size_t n = max < size_ ? max : size_;
    std::string_view s(reinterpret_cast<const char*>(data_), n);
    data_ += n;
    size_ -= n;
    return s;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
};

}  // namespace senet::fuzz

#endif  // SENET_FUZZ_FUZZ_INPUT_HPP
