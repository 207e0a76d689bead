// SPDX-License-Identifier: BSL-1.0
#include <support/child_process.hpp>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

extern char** environ;

namespace senet::test {

namespace {

constexpr const char* child_flag = "--senet-test-child";

std::map<std::string, child_function>& registry() {
  static std::map<std::string, child_function> functions;
  return functions;
}

}  // namespace

child_registration::child_registration(const char* name, child_function fn) {
  registry()[name] = fn;
}

int run_child(const std::string& name, const std::vector<std::string>& args) {
  std::vector<std::string> words{"/proc/self/exe", child_flag, name};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& w : words) {
    argv.push_back(w.data());
  }
  argv.push_back(nullptr);
  ::pid_t pid = 0;
  if (int rc = ::posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), environ); rc != 0) {
    std::fprintf(stderr, "senet test: cannot start a child process: %s\n", std::strerror(rc));
    return -1;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return -1;
    }
  }
  return status;
}

bool run_child_if_asked(int argc, char** argv, int& exit_code) {
  if (argc < 3 || std::strcmp(argv[1], child_flag) != 0) {
    return false;
  }
  auto it = registry().find(argv[2]);
  if (it == registry().end()) {
    std::fprintf(stderr, "senet test: no child function named %s\n", argv[2]);
    exit_code = 125;
    return true;
  }
  exit_code = it->second(std::vector<std::string>(argv + 3, argv + argc));
  return true;
}

}  // namespace senet::test
