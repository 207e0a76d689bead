// SPDX-License-Identifier: BSL-1.0
#ifndef SENET_TEST_SUPPORT_CHILD_PROCESS_HPP
#define SENET_TEST_SUPPORT_CHILD_PROCESS_HPP

/* Runs a function of the test program in a process of its own, for what cannot be undone in the
   test process (a seccomp filter that takes io_uring away):

     SENET_TEST_CHILD(refuse_and_check) {                 // int (const std::vector<std::string>& args)
       ...                                                // runs in the child; returns its exit code
     }
     int status = senet::test::run_child("refuse_and_check", {"7", "EPERM"});
     ASSERT_TRUE(WIFEXITED(status));

   The child is this program started again (posix_spawn of /proc/self/exe), not a fork: a forked
   child of a process with other threads (the watchdog of support/deadline.hpp, the sanitizers'
   own) inherits every lock one of them held at the moment of the fork, and the first allocation
   can hang on it for ever. main() (support/main.cpp) runs the named function before anything else
   starts: no test, no listener, no watchdog. Its standard output and error are the test's. */

#include <string>
#include <vector>

namespace senet::test {

/** A function a child process runs: its arguments, and it returns the exit code. */
using child_function = int (*)(const std::vector<std::string>& args);

/** Registers `fn` under `name` (at static initialisation; see SENET_TEST_CHILD). */
struct child_registration {
  child_registration(const char* name, child_function fn);
};

/** Starts this program again to run the child function `name` with `args`, waits for it, and
    returns its wait status (as `waitpid` gives it; -1 if it could not be started). */
int run_child(const std::string& name, const std::vector<std::string>& args = {});

/** For main(): when the command line asks for a child function, runs it, stores its exit code in
    `exit_code` and returns true; otherwise returns false. */
bool run_child_if_asked(int argc, char** argv, int& exit_code);

}  // namespace senet::test

/** Defines a child function `name` (see the file comment); its parameter is `args`. */
#define SENET_TEST_CHILD(name)                                                         \
  static int senet_test_child_##name(const std::vector<std::string>& args);            \
  static const ::senet::test::child_registration senet_test_child_registration_##name{ \
      #name, &senet_test_child_##name};                                                \
  static int senet_test_child_##name([[maybe_unused]] const std::vector<std::string>& args)

#endif  // SENET_TEST_SUPPORT_CHILD_PROCESS_HPP
