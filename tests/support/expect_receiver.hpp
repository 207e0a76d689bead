// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_EXPECT_RECEIVER_HPP
#define SENET_TEST_SUPPORT_EXPECT_RECEIVER_HPP

#include <senet/execution.hpp>
#include <support/test_env.hpp>
#include <support/type_name.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace senet::test {

/** The part that every expect receiver shares: an environment, and the check that the receiver
    completed exactly once.

    A receiver is moved into the operation state by `connect`; only the object that was moved last
    (the one the operation state owns) checks, in its destructor, that it completed exactly once.
    A completion on a second channel or a second completion fails the test at once. The count is
    atomic because an operation may complete on one thread and be destroyed on another.
*/
template <class Env>
class expect_receiver_base {
 public:
  using receiver_concept = ex::receiver_tag;

  expect_receiver_base(expect_receiver_base&& other) noexcept
      : env_(std::move(other.env_)),
        name_(other.name_),
        completions_(other.completions_.load()),
        owner_(std::exchange(other.owner_, false)) {}

  expect_receiver_base(expect_receiver_base const&) = delete;
  expect_receiver_base& operator=(expect_receiver_base const&) = delete;
  expect_receiver_base& operator=(expect_receiver_base&&) = delete;

  ~expect_receiver_base() {
    // A second completion has already failed the test when it happened.
    if (owner_ && completions_.load() == 0) {
      ADD_FAILURE() << name_ << " completed 0 times, expected exactly once";
    }
  }

  /** The environment this receiver was given (by value, as environments are cheap handles). */
  Env get_env() const noexcept { return env_; }

 protected:
  expect_receiver_base(Env env, char const* name) noexcept : env_(std::move(env)), name_(name) {}

  /** Counts one completion; fails the test when it is not the first. */
  void completed() noexcept {
    if (completions_.fetch_add(1) != 0) {
      ADD_FAILURE() << name_ << " completed more than once";
    }
  }

  /** Counts a completion on a channel this receiver does not expect, and fails the test. */
  void unexpected(std::string const& what) noexcept {
    completed();
    ADD_FAILURE() << name_ << ": unexpected " << what;
  }

  char const* name() const noexcept { return name_; }

 private:
  Env env_;
  char const* name_;
  std::atomic<int> completions_{0};
  bool owner_ = true;
};

namespace detail {

template <class... Ts>
std::string describe_error() {
  return "set_error(" + ((type_name<Ts>() + ...)) + ")";
}

inline std::string describe_exception(std::exception_ptr const& eptr) {
  if (!eptr) {
    return "set_error(null exception_ptr)";
  }
  try {
    std::rethrow_exception(eptr);
  } catch (std::exception const& e) {
    return "set_error(exception_ptr holding " + type_name_of(e) + ": " + e.what() + ")";
  } catch (...) {
    return "set_error(exception_ptr holding a non-std::exception)";
  }
}

template <class Err>
std::string describe_any_error(Err const& err) {
  if constexpr (std::is_same_v<Err, std::exception_ptr>) {
    return describe_exception(err);
  } else {
    return describe_error<Err>();
  }
}

template <class... Ts>
std::string describe_value() {
  if constexpr (sizeof...(Ts) == 0) {
    return "set_value()";
  } else {
    std::string s = "set_value(";
    ((s += type_name<Ts>() + ", "), ...);
    s.resize(s.size() - 2);
    return s + ")";
  }
}

}  // namespace detail

/** A receiver that expects `set_value` with values equal to the ones it was given.

    Any other completion (other value types, an error, stopped) fails the test; so does completing
    more than once or not at all (checked when the receiver is destroyed). The environment `Env` is
    returned by `get_env`; `expect_value_receiver<Vs...>` is this receiver with an empty environment.
*/
template <class Env, class... Vs>
class expect_value_receiver_in : public expect_receiver_base<Env> {
 public:
  explicit expect_value_receiver_in(Env env, Vs... expected)
      : expect_receiver_base<Env>(std::move(env), "expect_value_receiver"),
        expected_(std::move(expected)...) {}

  template <class... Us>
  void set_value(Us&&... values) && noexcept {
    if constexpr (sizeof...(Us) == sizeof...(Vs) && (std::is_same_v<std::remove_cvref_t<Us>, Vs> && ...)) {
      this->completed();
      compare(std::index_sequence_for<Vs...>{}, values...);
    } else {
      this->unexpected(detail::describe_value<std::remove_cvref_t<Us>...>() + ", expected " +
                       detail::describe_value<Vs...>());
    }
  }

  template <class Err>
  void set_error(Err&& err) && noexcept {
    this->unexpected(detail::describe_any_error(err));
  }

  void set_stopped() && noexcept { this->unexpected("set_stopped()"); }

 private:
  template <std::size_t... I, class... Us>
  void compare(std::index_sequence<I...>, Us const&... values) noexcept {
    auto received = std::forward_as_tuple(values...);
    (check_equal(std::get<I>(expected_), std::get<I>(received), I), ...);
  }

  template <class V, class U>
  static void check_equal(V const& expected, U const& received, std::size_t index) noexcept {
    EXPECT_EQ(expected, received) << "expect_value_receiver: value #" << index;
  }

  std::tuple<Vs...> expected_;
};

/** `expect_value_receiver_in` with an empty environment. */
template <class... Vs>
class expect_value_receiver : public expect_value_receiver_in<empty_env, Vs...> {
 public:
  explicit(sizeof...(Vs) != 1) expect_value_receiver(Vs... expected)
      : expect_value_receiver_in<empty_env, Vs...>(empty_env{}, std::move(expected)...) {}
};

template <class... Vs>
expect_value_receiver(Vs...) -> expect_value_receiver<Vs...>;

/** A receiver that expects `set_value()` with no values; any other completion fails the test. */
template <class Env = empty_env>
class expect_void_receiver : public expect_receiver_base<Env> {
 public:
  expect_void_receiver() : expect_void_receiver(Env{}) {}
  explicit expect_void_receiver(Env env)
      : expect_receiver_base<Env>(std::move(env), "expect_void_receiver") {}

  template <class... Us>
  void set_value(Us&&...) && noexcept {
    if constexpr (sizeof...(Us) == 0) {
      this->completed();
    } else {
      this->unexpected(detail::describe_value<std::remove_cvref_t<Us>...>() + ", expected set_value()");
    }
  }

  template <class Err>
  void set_error(Err&& err) && noexcept {
    this->unexpected(detail::describe_any_error(err));
  }

  void set_stopped() && noexcept { this->unexpected("set_stopped()"); }
};

/** A receiver that expects `set_error` with an error of type `E` (equal to the expected error when
    one is given); any other completion fails the test. */
template <class E, class Env = empty_env>
class expect_error_receiver : public expect_receiver_base<Env> {
 public:
  /** Expects any error of type `E`. */
  expect_error_receiver() : expect_error_receiver(Env{}) {}
  explicit expect_error_receiver(Env env)
      : expect_receiver_base<Env>(std::move(env), "expect_error_receiver") {}

  /** Expects an error of type `E` equal to `expected`. */
  explicit expect_error_receiver(E expected) : expect_error_receiver(Env{}, std::move(expected)) {}
  expect_error_receiver(Env env, E expected)
      : expect_receiver_base<Env>(std::move(env), "expect_error_receiver"), expected_(std::move(expected)) {}

  template <class... Us>
  void set_value(Us&&...) && noexcept {
    this->unexpected(detail::describe_value<std::remove_cvref_t<Us>...>());
  }

  template <class Err>
  void set_error(Err&& err) && noexcept {
    if constexpr (std::is_same_v<std::remove_cvref_t<Err>, E>) {
      this->completed();
      if (expected_) {
        EXPECT_TRUE(*expected_ == err) << "set_error with a different " << type_name<E>() << " than expected";
      }
    } else {
      this->unexpected(detail::describe_any_error(err) + ", expected " + detail::describe_error<E>());
    }
  }

  void set_stopped() && noexcept { this->unexpected("set_stopped()"); }

 private:
  std::optional<E> expected_;
};

/** A receiver that expects `set_error(std::exception_ptr)` holding an exception of type `Ex` (whose
    `what()` equals the expected message when one is given); any other completion fails the test. */
template <class Ex, class Env = empty_env>
class expect_exception_receiver : public expect_receiver_base<Env> {
 public:
  expect_exception_receiver() : expect_exception_receiver(Env{}) {}
  explicit expect_exception_receiver(Env env)
      : expect_receiver_base<Env>(std::move(env), "expect_exception_receiver") {}
  explicit expect_exception_receiver(std::string what) : expect_exception_receiver(Env{}, std::move(what)) {}
  expect_exception_receiver(Env env, std::string what)
      : expect_receiver_base<Env>(std::move(env), "expect_exception_receiver"), what_(std::move(what)) {}

  template <class... Us>
  void set_value(Us&&...) && noexcept {
    this->unexpected(detail::describe_value<std::remove_cvref_t<Us>...>());
  }

  template <class Err>
  void set_error(Err&& err) && noexcept {
    if constexpr (std::is_same_v<std::remove_cvref_t<Err>, std::exception_ptr>) {
      this->completed();
      try {
        std::rethrow_exception(err);
      } catch (Ex const& e) {
        if (what_) {
          EXPECT_EQ(*what_, e.what());
        }
      } catch (...) {
        ADD_FAILURE() << "expect_exception_receiver: " << detail::describe_exception(err) << ", expected "
                      << type_name<Ex>();
      }
    } else {
      this->unexpected(detail::describe_any_error(err) + ", expected set_error(exception_ptr)");
    }
  }

  void set_stopped() && noexcept { this->unexpected("set_stopped()"); }

 private:
  std::optional<std::string> what_;
};

/** A receiver that expects `set_stopped()`; any other completion fails the test. */
template <class Env = empty_env>
class expect_stopped_receiver : public expect_receiver_base<Env> {
 public:
  expect_stopped_receiver() : expect_stopped_receiver(Env{}) {}
  explicit expect_stopped_receiver(Env env)
      : expect_receiver_base<Env>(std::move(env), "expect_stopped_receiver") {}

  template <class... Us>
  void set_value(Us&&...) && noexcept {
    this->unexpected(detail::describe_value<std::remove_cvref_t<Us>...>());
  }

  template <class Err>
  void set_error(Err&& err) && noexcept {
    this->unexpected(detail::describe_any_error(err));
  }

  void set_stopped() && noexcept { this->completed(); }
};

/** An `expect_value_receiver_in` with environment `env` expecting `expected...`. */
template <class Env, class... Vs>
expect_value_receiver_in<Env, Vs...> expect_value_in(Env env, Vs... expected) {
  return expect_value_receiver_in<Env, Vs...>(std::move(env), std::move(expected)...);
}

/** An `expect_void_receiver` with environment `env`. */
template <class Env>
expect_void_receiver<Env> expect_void_in(Env env) {
  return expect_void_receiver<Env>(std::move(env));
}

/** An `expect_error_receiver` with environment `env` expecting `expected`. */
template <class Env, class E>
expect_error_receiver<E, Env> expect_error_in(Env env, E expected) {
  return expect_error_receiver<E, Env>(std::move(env), std::move(expected));
}

/** An `expect_stopped_receiver` with environment `env`. */
template <class Env>
expect_stopped_receiver<Env> expect_stopped_in(Env env) {
  return expect_stopped_receiver<Env>(std::move(env));
}

/** Connects `sndr` to `rcvr`, starts the operation and destroys it again: for senders that
    complete inside `start()`, so that an expect receiver checks its completion at once. */
template <class Sndr, class Rcvr>
void start_inline(Sndr&& sndr, Rcvr rcvr) {
  auto op = ex::connect(std::forward<Sndr>(sndr), std::move(rcvr));
  ex::start(op);
}

}  // namespace senet::test

#endif  // SENET_TEST_SUPPORT_EXPECT_RECEIVER_HPP
