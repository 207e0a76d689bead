// SPDX-License-Identifier: BSL-1.0
// execution_engine.h on Windows: a reference-counted handle on a Win32 thread pool of its own
// (CreateThreadpool), which async_socket_win32 runs its I/O completions on.
#include <senet/c/execution_engine.h>
#include <senet/c/execution_engine_win32.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

struct EXECUTION_ENGINE {
  std::atomic<std::size_t> references{1};
  PTP_POOL pool = nullptr;
};

extern "C" {

EXECUTION_ENGINE_HANDLE execution_engine_create(void* execution_engine_parameters) {
  EXECUTION_ENGINE_PARAMETERS_WIN32 parameters{EXECUTION_ENGINE_WIN32_DEFAULT_MIN_THREAD_COUNT,
                                               EXECUTION_ENGINE_WIN32_DEFAULT_MAX_THREAD_COUNT};
  if (execution_engine_parameters != nullptr) {
    parameters = *static_cast<const EXECUTION_ENGINE_PARAMETERS_WIN32*>(execution_engine_parameters);
  }
  if (parameters.max_thread_count > INT32_MAX ||
      (parameters.max_thread_count != 0 && parameters.max_thread_count < parameters.min_thread_count)) {
    return nullptr;
  }
  auto* engine = new (std::nothrow) EXECUTION_ENGINE;
  if (engine == nullptr) {
    return nullptr;
  }
  engine->pool = ::CreateThreadpool(nullptr);
  if (engine->pool == nullptr) {
    delete engine;
    return nullptr;
  }
  if (!::SetThreadpoolThreadMinimum(engine->pool, parameters.min_thread_count)) {
    ::CloseThreadpool(engine->pool);
    delete engine;
    return nullptr;
  }
  if (parameters.max_thread_count != 0) {
    ::SetThreadpoolThreadMaximum(engine->pool, parameters.max_thread_count);
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
    // From a callback of the pool too: CloseThreadpool then releases the pool once its objects and
    // callbacks are gone.
    ::CloseThreadpool(execution_engine->pool);
    delete execution_engine;
  }
}

PTP_POOL execution_engine_win32_get_threadpool(EXECUTION_ENGINE_HANDLE execution_engine) {
  return execution_engine == nullptr ? nullptr : execution_engine->pool;
}

}  // extern "C"
