// SPDX-License-Identifier: BSL-1.0
// The `..._to_string` functions of async_socket.h, the same on every platform.
#include <senet/c/async_socket.h>

#include "senet/c/c_enum.hpp"

using senet::c_api::c_enum_value;

extern "C" {

// ---- enum names ----------------------------------------------------------------------------------

const char* async_socket_open_result_to_string(ASYNC_SOCKET_OPEN_RESULT value) {
  switch (c_enum_value(value)) {
    case ASYNC_SOCKET_OPEN_OK:
      return "ASYNC_SOCKET_OPEN_OK";
    case ASYNC_SOCKET_OPEN_ERROR:
      return "ASYNC_SOCKET_OPEN_ERROR";
  }
  return "UNKNOWN";
}

const char* async_socket_send_sync_result_to_string(ASYNC_SOCKET_SEND_SYNC_RESULT value) {
  switch (c_enum_value(value)) {
    case ASYNC_SOCKET_SEND_SYNC_OK:
      return "ASYNC_SOCKET_SEND_SYNC_OK";
    case ASYNC_SOCKET_SEND_SYNC_ERROR:
      return "ASYNC_SOCKET_SEND_SYNC_ERROR";
    case ASYNC_SOCKET_SEND_SYNC_ABANDONED:
      return "ASYNC_SOCKET_SEND_SYNC_ABANDONED";
    case ASYNC_SOCKET_SEND_SYNC_NOT_OPEN:
      return "ASYNC_SOCKET_SEND_SYNC_NOT_OPEN";
  }
  return "UNKNOWN";
}

const char* async_socket_send_result_to_string(ASYNC_SOCKET_SEND_RESULT value) {
  switch (c_enum_value(value)) {
    case ASYNC_SOCKET_SEND_OK:
      return "ASYNC_SOCKET_SEND_OK";
    case ASYNC_SOCKET_SEND_ERROR:
      return "ASYNC_SOCKET_SEND_ERROR";
    case ASYNC_SOCKET_SEND_ABANDONED:
      return "ASYNC_SOCKET_SEND_ABANDONED";
  }
  return "UNKNOWN";
}

const char* async_socket_receive_result_to_string(ASYNC_SOCKET_RECEIVE_RESULT value) {
  switch (c_enum_value(value)) {
    case ASYNC_SOCKET_RECEIVE_OK:
      return "ASYNC_SOCKET_RECEIVE_OK";
    case ASYNC_SOCKET_RECEIVE_ERROR:
      return "ASYNC_SOCKET_RECEIVE_ERROR";
    case ASYNC_SOCKET_RECEIVE_ABANDONED:
      return "ASYNC_SOCKET_RECEIVE_ABANDONED";
  }
  return "UNKNOWN";
}

const char* async_socket_notify_io_type_to_string(ASYNC_SOCKET_NOTIFY_IO_TYPE value) {
  switch (c_enum_value(value)) {
    case ASYNC_SOCKET_NOTIFY_IO_TYPE_IN:
      return "ASYNC_SOCKET_NOTIFY_IO_TYPE_IN";
    case ASYNC_SOCKET_NOTIFY_IO_TYPE_OUT:
      return "ASYNC_SOCKET_NOTIFY_IO_TYPE_OUT";
  }
  return "UNKNOWN";
}

const char* async_socket_notify_io_result_to_string(ASYNC_SOCKET_NOTIFY_IO_RESULT value) {
  switch (c_enum_value(value)) {
    case ASYNC_SOCKET_NOTIFY_IO_RESULT_IN:
      return "ASYNC_SOCKET_NOTIFY_IO_RESULT_IN";
    case ASYNC_SOCKET_NOTIFY_IO_RESULT_OUT:
      return "ASYNC_SOCKET_NOTIFY_IO_RESULT_OUT";
    case ASYNC_SOCKET_NOTIFY_IO_RESULT_ABANDONED:
      return "ASYNC_SOCKET_NOTIFY_IO_RESULT_ABANDONED";
    case ASYNC_SOCKET_NOTIFY_IO_RESULT_ERROR:
      return "ASYNC_SOCKET_NOTIFY_IO_RESULT_ERROR";
  }
  return "UNKNOWN";
}

}  // extern "C"
