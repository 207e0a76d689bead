// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_EXECUTION_HPP
#define SENET_EXECUTION_EXECUTION_HPP

/** senet's bundled implementation of the C++26 std::execution (P2300) vocabulary, `senet::execution`.

    Everything else in senet uses it through the alias `senet::ex` (`<senet/execution.hpp>`), which a build
    option can point at NVIDIA stdexec instead; so the public names and protocols here are those of the
    working draft and of stdexec. Only `spawn` allocates (see its documentation).
*/

#include <senet/execution/completion_functions.hpp>
#include <senet/execution/completion_signatures.hpp>
#include <senet/execution/connect.hpp>
#include <senet/execution/continues_on.hpp>
#include <senet/execution/counting_scope.hpp>
#include <senet/execution/env.hpp>
#include <senet/execution/get_completion_signatures.hpp>
#include <senet/execution/into_variant.hpp>
#include <senet/execution/just.hpp>
#include <senet/execution/let_error.hpp>
#include <senet/execution/let_stopped.hpp>
#include <senet/execution/let_value.hpp>
#include <senet/execution/on.hpp>
#include <senet/execution/operation_state.hpp>
#include <senet/execution/queries.hpp>
#include <senet/execution/read_env.hpp>
#include <senet/execution/receiver.hpp>
#include <senet/execution/run_loop.hpp>
#include <senet/execution/scheduler.hpp>
#include <senet/execution/sender.hpp>
#include <senet/execution/sender_adaptor_closure.hpp>
#include <senet/execution/spawn.hpp>
#include <senet/execution/starts_on.hpp>
#include <senet/execution/stop_token.hpp>
#include <senet/execution/stopped_as_optional.hpp>
#include <senet/execution/sync_wait.hpp>
#include <senet/execution/then.hpp>
#include <senet/execution/upon_error.hpp>
#include <senet/execution/upon_stopped.hpp>
#include <senet/execution/when_all.hpp>
#include <senet/execution/when_any.hpp>

#endif  // SENET_EXECUTION_EXECUTION_HPP
