// SPDX-License-Identifier: BSL-1.0
#include <senet/coro/poll.hpp>

#include <senet/error.hpp>

#include <string>
#include <system_error>

namespace senet::coro {

const std::string& to_string(poll_op op) {
  static const std::string read{"read"};
  static const std::string write{"write"};
  static const std::string read_write{"read_write"};
  static const std::string unknown{"unknown"};
  switch (op) {
    case poll_op::read:
      return read;
    case poll_op::write:
      return write;
    case poll_op::read_write:
      return read_write;
  }
  return unknown;
}

const std::string& to_string(poll_status status) {
  static const std::string event{"event"};
  static const std::string timeout{"timeout"};
  static const std::string error{"error"};
  static const std::string closed{"closed"};
  static const std::string unknown{"unknown"};
  switch (status) {
    case poll_status::event:
      return event;
    case poll_status::timeout:
      return timeout;
    case poll_status::error:
      return error;
    case poll_status::closed:
      return closed;
  }
  return unknown;
}

poll_status to_poll_status(const std::error_code& ec, poll_target target) noexcept {
  if (ec == std::errc::timed_out) {
    return poll_status::timeout;
  }
  if (ec == senet::error::operation_aborted ||
      (target == poll_target::socket && ec == std::errc::bad_file_descriptor)) {
    return poll_status::closed;
  }
  return poll_status::error;
}

}  // namespace senet::coro
