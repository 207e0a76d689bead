// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_EXECUTION_HPP
#define SENET_EXECUTION_HPP

/** The std::execution vocabulary as senet uses it: `senet::ex`.

    By default `senet::ex` is `senet::execution`, senet's bundled implementation of the C++26
    std::execution (P2300) names. A build configured with
    `-DSENET_STDEXEC_INCLUDE_DIR=<stdexec>/include` makes `senet::ex` name NVIDIA's stdexec instead
    (`::stdexec`, plus `exec::when_any`, which stdexec keeps outside `stdexec`). Everything in senet
    outside `include/senet/execution/` spells these names only as `ex::...`, so both work.

    `ex::repeat_effect_until` and `ex::repeat_effect` (stdexec keeps its loops in `exec::`, with
    another interface) are senet's own, written on the `ex::` names, so they are the same with
    either core. `ex::on` is the core's own (`senet::execution::on`, or stdexec's).
*/

#include <senet/config.hpp>

#if SENET_USE_STDEXEC
#include <exec/when_any.hpp>
#include <stdexec/execution.hpp>

namespace senet::stdexec_names {
using namespace ::stdexec;
using ::exec::when_any;
}  // namespace senet::stdexec_names

namespace senet {
namespace ex = stdexec_names;
}  // namespace senet
#else
#include <senet/execution/execution.hpp>

namespace senet {
namespace ex = execution;
}  // namespace senet
#endif

// Written on the `ex::` names above, the same for both cores.
#include <senet/execution/repeat_effect.hpp>        // IWYU pragma: export
#include <senet/execution/repeat_effect_until.hpp>  // IWYU pragma: export

#endif  // SENET_EXECUTION_HPP
