// SPDX-License-Identifier: BSL-1.0
// [exec.getcomplsigs] of the bundled core: the three sender protocols, diagnostics that keep
// sender_in a soft check, environment-dependent signatures and the signature utilities.
#include <senet/execution/get_completion_signatures.hpp>

#include <senet/execution.hpp>

#include <gtest/gtest.h>

#include <exception>
#include <string>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <variant>

namespace {

namespace ex = senet::execution;

template <class A, class B>
inline constexpr bool same_set = false;
template <class... As, class... Bs>
inline constexpr bool same_set<ex::completion_signatures<As...>, ex::completion_signatures<Bs...>> =
    sizeof...(As) == sizeof...(Bs) && (ex::detail::one_of<As, Bs...> && ...);

struct noop_operation {
  void start() & noexcept {}
};

// Protocol 1: a nested alias.
struct alias_sender {
  using sender_concept = ex::sender_tag;
  using completion_signatures = ex::completion_signatures<ex::set_value_t(int), ex::set_stopped_t()>;
  template <class Rcvr>
  noop_operation connect(Rcvr) const noexcept {
    return {};
  }
};

// Protocol 2: a static member template, as stdexec's senders declare it (there `consteval`).
struct static_member_sender {
  using sender_concept = ex::sender_tag;
  template <class Self, class... Env>
  static constexpr auto get_completion_signatures() noexcept {
    if constexpr (sizeof...(Env) == 0) {
      return ex::completion_signatures<ex::set_value_t(long)>{};
    } else {
      return ex::completion_signatures<ex::set_value_t(ex::stop_token_of_t<Env>...)>{};
    }
  }
  template <class Rcvr>
  noop_operation connect(Rcvr) const noexcept {
    return {};
  }
};

// Protocol 3: a member function of the environment.
struct member_function_sender {
  using sender_concept = ex::sender_tag;
  template <class Env>
  auto get_completion_signatures(Env&&) const -> ex::completion_signatures<ex::set_error_t(std::error_code)>;
  template <class Rcvr>
  noop_operation connect(Rcvr) const noexcept {
    return {};
  }
};

struct not_a_sender {};

struct int_receiver {
  using receiver_concept = ex::receiver_tag;
  void set_value(int) && noexcept {}
};

using token_env = ex::env<ex::prop<ex::get_stop_token_t, ex::inplace_stop_token>>;

TEST(get_completion_signatures, reads_a_nested_alias) {
  static_assert(std::is_same_v<ex::completion_signatures_of_t<alias_sender, ex::env<>>,
                               ex::completion_signatures<ex::set_value_t(int), ex::set_stopped_t()>>);
  static_assert(ex::sender_in<alias_sender>);
  static_assert(ex::sends_stopped<alias_sender>);
}

TEST(get_completion_signatures, calls_a_static_member_template_with_the_environment) {
  static_assert(std::is_same_v<ex::completion_signatures_of_t<static_member_sender>,
                               ex::completion_signatures<ex::set_value_t(long)>>);
  static_assert(std::is_same_v<ex::completion_signatures_of_t<static_member_sender, token_env>,
                               ex::completion_signatures<ex::set_value_t(ex::inplace_stop_token)>>);
  static_assert(std::is_same_v<decltype(ex::get_completion_signatures<static_member_sender, token_env>()),
                               ex::completion_signatures<ex::set_value_t(ex::inplace_stop_token)>>);
}

TEST(get_completion_signatures, calls_a_member_function_with_the_environment) {
  static_assert(std::is_same_v<ex::completion_signatures_of_t<member_function_sender, ex::env<>>,
                               ex::completion_signatures<ex::set_error_t(std::error_code)>>);
  static_assert(std::is_same_v<ex::error_types_of_t<member_function_sender>, std::variant<std::error_code>>);
  // The legacy call form gives the same.
  static_assert(std::is_same_v<decltype(ex::get_completion_signatures(member_function_sender{}, ex::env<>{})),
                               ex::completion_signatures<ex::set_error_t(std::error_code)>>);
}

TEST(get_completion_signatures, a_type_without_a_protocol_is_not_a_sender_in) {
  static_assert(!ex::sender<not_a_sender>);
  static_assert(!ex::sender_in<not_a_sender, ex::env<>>);
}

TEST(get_completion_signatures, misuse_is_a_soft_failure_of_sender_in) {
  // Each of these would be a compile error at connect or sync_wait; sender_in just says false.
  using bad_then = decltype(ex::just(1) | ex::then([](std::string) {}));
  using bad_let = decltype(ex::just(1) | ex::let_value([](int) { return 1; }));
  using bad_when_all = decltype(ex::when_all(ex::just(1) | ex::then([](std::string) {})));
  static_assert(ex::sender<bad_then> && !ex::sender_in<bad_then, ex::env<>>);
  static_assert(ex::sender<bad_let> && !ex::sender_in<bad_let, ex::env<>>);
  static_assert(!ex::sender_in<bad_when_all, ex::env<>>);
  static_assert(ex::sender_to<decltype(ex::just(1)), int_receiver>);
  static_assert(!ex::sender_to<decltype(ex::just_error(1)), int_receiver>);
  static_assert(!ex::sender_to<bad_then, int_receiver>);
}

TEST(get_completion_signatures, read_env_depends_on_the_environment) {
  using sndr = decltype(ex::read_env(ex::get_stop_token));
  static_assert(!ex::sender_in<sndr>);  // no environment: unknown
  static_assert(std::is_same_v<ex::completion_signatures_of_t<sndr, token_env>,
                               ex::completion_signatures<ex::set_value_t(ex::inplace_stop_token)>>);
  static_assert(std::is_same_v<ex::completion_signatures_of_t<sndr, ex::env<>>,
                               ex::completion_signatures<ex::set_value_t(ex::never_stop_token)>>);
  using sched_sndr = decltype(ex::read_env(ex::get_scheduler));
  static_assert(!ex::sender_in<sched_sndr, ex::env<>>);
}

TEST(get_completion_signatures, let_value_passes_the_environment_to_the_second_sender) {
  using sndr = decltype(ex::just() | ex::let_value([] { return ex::read_env(ex::get_stop_token); }));
  static_assert(ex::detail::count_of<ex::set_value_t, ex::completion_signatures_of_t<sndr, token_env>> == 1 &&
                std::is_same_v<ex::value_types_of_t<sndr, token_env>,
                               std::variant<std::tuple<ex::inplace_stop_token>>>);
}

TEST(get_completion_signatures, run_loop_sends_stopped_only_with_a_stoppable_token) {
  ex::run_loop loop;
  using sndr = decltype(ex::schedule(loop.get_scheduler()));
  static_assert(!ex::sends_stopped<sndr, ex::env<>>);
  static_assert(ex::sends_stopped<sndr, token_env>);
}

TEST(get_completion_signatures, then_adds_exception_ptr_only_when_the_function_may_throw) {
  using may_throw = decltype(ex::just(1) | ex::then([](int i) { return i; }));
  using nothrow = decltype(ex::just(1) | ex::then([](int i) noexcept { return i; }));
  static_assert(
      same_set<ex::completion_signatures_of_t<may_throw>,
               ex::completion_signatures<ex::set_value_t(int), ex::set_error_t(std::exception_ptr)>>);
  static_assert(std::is_same_v<ex::completion_signatures_of_t<nothrow>,
                               ex::completion_signatures<ex::set_value_t(int)>>);
}

TEST(get_completion_signatures, signatures_have_no_duplicates) {
  using sndr = decltype(ex::when_any(ex::just(1), ex::just(2), ex::just_stopped()));
  static_assert(std::is_same_v<ex::completion_signatures_of_t<sndr>,
                               ex::completion_signatures<ex::set_value_t(int), ex::set_stopped_t()>>);
}

template <class... Vs>
using as_strings = ex::completion_signatures<ex::set_value_t(std::string)>;
template <class E>
using error_as_value = ex::completion_signatures<ex::set_value_t(E)>;

TEST(transform_completion_signatures, maps_each_channel) {
  using in = ex::completion_signatures<ex::set_value_t(int), ex::set_value_t(int, int), ex::set_error_t(long),
                                       ex::set_stopped_t()>;
  using out =
      ex::transform_completion_signatures<in, ex::completion_signatures<ex::set_error_t(std::exception_ptr)>,
                                          as_strings, error_as_value, ex::completion_signatures<>>;
  static_assert(
      same_set<out, ex::completion_signatures<ex::set_error_t(std::exception_ptr),
                                              ex::set_value_t(std::string), ex::set_value_t(long)>>);
  using identity = ex::transform_completion_signatures<in>;
  static_assert(same_set<identity, in>);
}

TEST(value_types_of_t, gathers_the_value_completions) {
  using sndr = decltype(ex::just(1, std::string{}));
  static_assert(std::is_same_v<ex::value_types_of_t<sndr>, std::variant<std::tuple<int, std::string>>>);
  static_assert(std::is_same_v<ex::value_types_of_t<sndr, ex::env<>, std::tuple, std::tuple>,
                               std::tuple<std::tuple<int, std::string>>>);
  static_assert(!ex::sends_stopped<sndr>);
}

}  // namespace
