// SPDX-License-Identifier: BSL-1.0
// The public members of io_context; the core is context_impl (src/senet/io/context_impl.hpp).
#include <senet/io/io_context.hpp>

#include "senet/io/context_impl.hpp"

#include <cstdint>
#include <memory>

namespace senet::io {

io_context::io_context() : impl_(std::make_unique<detail::context_impl>(*this, context_options{})) {}
io_context::io_context(backend_kind kind)
    : impl_(std::make_unique<detail::context_impl>(*this, context_options{.backend = kind})) {}
io_context::io_context(const context_options& options)
    : impl_(std::make_unique<detail::context_impl>(*this, options)) {}
io_context::~io_context() {
  // Completions delivered here may still use the context (get_scheduler, starting operations,
  // which then complete stopped at once): it stays whole until they are all done.
  impl_->shutdown();
}

std::size_t io_context::run() {
  return impl_->run();
}
std::size_t io_context::run_for_ns(std::chrono::nanoseconds rel_time) {
  return impl_->run_for(rel_time);
}
std::size_t io_context::run_one() {
  return impl_->run_one();
}
std::size_t io_context::poll() {
  return impl_->poll();
}
std::size_t io_context::poll_one() {
  return impl_->poll_one();
}
void io_context::stop() noexcept {
  impl_->stop();
}
bool io_context::stopped() const noexcept {
  return impl_->stopped();
}
void io_context::restart() noexcept {
  impl_->restart();
}
backend_kind io_context::backend() const noexcept {
  return impl_->kind();
}
const io::backend_info& io_context::backend_info() const noexcept {
  return impl_->info();
}
int io_context::wait_descriptor() const noexcept {
  return impl_->wait_descriptor();
}
io_context::run_token io_context::enter_run() {
  return impl_->enter_run();
}
void io_context::leave_run(run_token token) noexcept {
  impl_->leave_run(token);
}
std::size_t io_context::run_until_turn(bool ignore_stop) {
  return impl_->run_until_turn(ignore_stop);
}
void io_context::add_work() noexcept {
  impl_->add_work();
}
void io_context::remove_work() noexcept {
  impl_->remove_work();
}

bool io_context::is_available(backend_kind kind) noexcept {
  // A backend completes nothing while it is made and destroyed: a sink of its own will do.
  struct null_sink final : detail::completion_sink {
  } sink;
  try {
    return detail::make_backend(kind, sink) != nullptr;
  } catch (...) {
    return false;
  }
}

}  // namespace senet::io
