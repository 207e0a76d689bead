// SPDX-License-Identifier: BSL-1.0
// execution_engine.h on Linux: a reference-counted handle that holds a reference on the completion
// port (and so keeps its loop thread running).
#include <senet/c/execution_engine.h>

#include <atomic>
#include <cstddef>
#include <new>

#include "senet/c/completion_port.hpp"

struct EXECUTION_ENGINE {
  std::atomic<std::size_t> references{1};
  senet::c_api::completion_port* port = nullptr;
};

extern "C" {

EXECUTION_ENGINE_HANDLE execution_engine_create(void* execution_engine_parameters) {
  (void)execution_engine_parameters;  // Linux has no engine settings
  auto* engine = new (std::nothrow) EXECUTION_ENGINE;
  if (engine == nullptr) {
    return nullptr;
  }
  engine->port = senet::c_api::completion_port::acquire();
  if (engine->port == nullptr) {
    delete engine;
    return nullptr;
  }
  return engine;
}

void execution_engine_inc_ref(EXECUTION_ENGINE_HANDLE execution_engine) {
  if (execution_engine != nullptr) {
    execution_engine->references.fetch_add(1, std::memory_order_relaxed);
  }
}

void execution_engine_dec_ref(EXECUTION_ENGINE_HANDLE execution_engine) {
  if (execution_engine != nullptr &&
      execution_engine->references.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    senet::c_api::completion_port* port = execution_engine->port;
    delete execution_engine;
    port->release();
  }
}

}  // extern "C"
