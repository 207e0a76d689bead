// SPDX-License-Identifier: BSL-1.0
// Which sockets' callbacks (or API calls) the calling thread is inside (shared by every platform's
// implementation of the C API).
#ifndef SENET_SRC_C_CALLBACK_FRAMES_HPP
#define SENET_SRC_C_CALLBACK_FRAMES_HPP

namespace senet::c_api {

// One entry of the calling thread's stack of frames: made (pushed) around a callback of `socket`,
// or around an API call of it that may run one, and removed (popped) when that ends. `Socket` is
// the platform's socket type; `kind` tells the platform's two sorts of frame apart.
template <class Socket>
class callback_frame {
 public:
  callback_frame(const Socket* socket, bool kind) noexcept : socket_(socket), kind_(kind), next_(top_) {
    top_ = this;
  }
  callback_frame(const callback_frame&) = delete;
  callback_frame& operator=(const callback_frame&) = delete;
  ~callback_frame() { top_ = next_; }

  [[nodiscard]] bool kind() const noexcept { return kind_; }

  // The innermost frame of `socket` on the calling thread, or null when it is inside none.
  [[nodiscard]] static const callback_frame* innermost_of(const Socket* socket) noexcept {
    for (const callback_frame* f = top_; f != nullptr; f = f->next_) {
      if (f->socket_ == socket) {
        return f;
      }
    }
    return nullptr;
  }

  // How many frames of `socket` of `kind` the calling thread is inside.
  [[nodiscard]] static unsigned count_of(const Socket* socket, bool kind) noexcept {
    unsigned n = 0;
    for (const callback_frame* f = top_; f != nullptr; f = f->next_) {
      n += (f->socket_ == socket && f->kind_ == kind) ? 1U : 0U;
    }
    return n;
  }

 private:
  const Socket* socket_;
  bool kind_;
  callback_frame* next_;
  static constinit inline thread_local callback_frame* top_ = nullptr;
};

}  // namespace senet::c_api

#endif
