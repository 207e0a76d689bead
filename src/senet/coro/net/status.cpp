// SPDX-License-Identifier: BSL-1.0
#include <senet/coro/net/connect.hpp>
#include <senet/coro/net/recv_status.hpp>
#include <senet/coro/net/send_status.hpp>

#include <stdexcept>
#include <string>

namespace senet::coro::net {

namespace {

const std::string& unknown_status() {
  static const std::string unknown{"unknown"};
  return unknown;
}

}  // namespace

const std::string& to_string(const connect_status& status) {
  static const std::string connected{"connected"};
  static const std::string invalid_ip_address{"invalid_ip_address"};
  static const std::string timeout{"timeout"};
  static const std::string error{"error"};
  switch (status) {
    case connect_status::connected:
      return connected;
    case connect_status::invalid_ip_address:
      return invalid_ip_address;
    case connect_status::timeout:
      return timeout;
    case connect_status::error:
      return error;
  }
  throw std::logic_error("senet::coro::net::to_string: unknown connect_status " +
                         std::to_string(static_cast<int>(status)));
}

// `try_again` and `would_block` share a value; the name printed is "would_block".

const std::string& to_string(recv_status status) {
  static const std::string ok{"ok"};
  static const std::string closed{"closed"};
  static const std::string udp_not_bound{"udp_not_bound"};
  static const std::string would_block{"would_block"};
  static const std::string bad_file_descriptor{"bad_file_descriptor"};
  static const std::string connection_refused{"connection_refused"};
  static const std::string memory_fault{"memory_fault"};
  static const std::string interrupted{"interrupted"};
  static const std::string invalid_argument{"invalid_argument"};
  static const std::string no_memory{"no_memory"};
  static const std::string not_connected{"not_connected"};
  static const std::string not_a_socket{"not_a_socket"};
  static const std::string connection_reset_by_peer{"connection_reset_by_peer"};
  switch (status) {
    case recv_status::ok:
      return ok;
    case recv_status::closed:
      return closed;
    case recv_status::udp_not_bound:
      return udp_not_bound;
    case recv_status::would_block:
      return would_block;
    case recv_status::bad_file_descriptor:
      return bad_file_descriptor;
    case recv_status::connection_refused:
      return connection_refused;
    case recv_status::memory_fault:
      return memory_fault;
    case recv_status::interrupted:
      return interrupted;
    case recv_status::invalid_argument:
      return invalid_argument;
    case recv_status::no_memory:
      return no_memory;
    case recv_status::not_connected:
      return not_connected;
    case recv_status::not_a_socket:
      return not_a_socket;
    case recv_status::connection_reset_by_peer:
      return connection_reset_by_peer;
    default:
      return unknown_status();
  }
}

const std::string& to_string(send_status status) {
  static const std::string ok{"ok"};
  static const std::string closed{"closed"};
  static const std::string permission_denied{"permission_denied"};
  static const std::string would_block{"would_block"};
  static const std::string already_in_progress{"already_in_progress"};
  static const std::string bad_file_descriptor{"bad_file_descriptor"};
  static const std::string connection_reset{"connection_reset"};
  static const std::string no_peer_address{"no_peer_address"};
  static const std::string memory_fault{"memory_fault"};
  static const std::string interrupted{"interrupted"};
  static const std::string is_connection{"is_connection"};
  static const std::string message_size{"message_size"};
  static const std::string output_queue_full{"output_queue_full"};
  static const std::string no_memory{"no_memory"};
  static const std::string not_connected{"not_connected"};
  static const std::string not_a_socket{"not_a_socket"};
  static const std::string operationg_not_supported{"operationg_not_supported"};
  static const std::string pipe_closed{"pipe_closed"};
  switch (status) {
    case send_status::ok:
      return ok;
    case send_status::closed:
      return closed;
    case send_status::permission_denied:
      return permission_denied;
    case send_status::would_block:
      return would_block;
    case send_status::already_in_progress:
      return already_in_progress;
    case send_status::bad_file_descriptor:
      return bad_file_descriptor;
    case send_status::connection_reset:
      return connection_reset;
    case send_status::no_peer_address:
      return no_peer_address;
    case send_status::memory_fault:
      return memory_fault;
    case send_status::interrupted:
      return interrupted;
    case send_status::is_connection:
      return is_connection;
    case send_status::message_size:
      return message_size;
    case send_status::output_queue_full:
      return output_queue_full;
    case send_status::no_memory:
      return no_memory;
    case send_status::not_connected:
      return not_connected;
    case send_status::not_a_socket:
      return not_a_socket;
    case send_status::operationg_not_supported:
      return operationg_not_supported;
    case send_status::pipe_closed:
      return pipe_closed;
    default:
      return unknown_status();
  }
}

}  // namespace senet::coro::net
