// SPDX-License-Identifier: BSL-1.0
// The driver a fuzz target is linked with outside libFuzzer (every test preset): it runs the target
// once on each file named on the command line, or on each file of each directory named, so that the
// checked-in seed corpus and every crash input saved under fuzz/corpus/ stay regression tests.
// Exit status: 0 when every input ran (a broken invariant aborts), 1 when an argument names
// nothing readable or no input at all was found.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

bool run_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "%s: cannot read\n", path.c_str());
    return false;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t inputs = 0;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    const std::filesystem::path arg(argv[i]);
    if (std::filesystem::is_directory(arg, ec)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        if (entry.is_regular_file()) {
          if (!run_file(entry.path())) {
            return 1;
          }
          ++inputs;
        }
      }
    } else if (std::filesystem::is_regular_file(arg, ec)) {
      if (!run_file(arg)) {
        return 1;
      }
      ++inputs;
    } else {
      std::fprintf(stderr, "%s: no such file or directory\n", argv[i]);
      return 1;
    }
  }
  if (inputs == 0) {
    std::fprintf(stderr, "usage: %s <input file or corpus directory>...\n", argv[0]);
    return 1;
  }
  std::printf("%zu inputs ran\n", inputs);
  return 0;
}
