// A main() for the fuzz targets in builds without libFuzzer: runs LLVMFuzzerTestOneInput once on
// every file named on the command line (directories: every regular file inside, sorted). The
// ctests fuzz_replay_* run the committed corpus this way, so each seed and every crash input
// added to tools/fuzz/corpus/ stays a regression test in the normal and sanitizer builds.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "tinyloop/platform/posix.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

constexpr std::size_t kMaxInputBytes = std::size_t(64) << 20;  // far above any corpus file

// The files named by `arg`: itself, or the regular files inside when it is a folder.
void add_inputs(const std::string& arg, std::vector<std::string>* files) {
  namespace tp = tinyloop::platform;
  if (!tp::is_directory(arg.c_str())) {
    files->push_back(arg);
    return;
  }
  std::vector<tp::DirectoryEntry> entries;
  if (!tp::list_directory(arg.c_str(), &entries)) return;
  for (const tp::DirectoryEntry& e : entries)
    if (e.regular_file) files->push_back(arg + (arg.back() == '/' ? "" : "/") + e.name);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) add_inputs(argv[i], &files);
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "replay: no input files\n");
    return 2;
  }
  std::vector<std::uint8_t> bytes;
  for (const std::string& f : files) {
    const tinyloop::Status s = tinyloop::platform::read_file(f.c_str(), kMaxInputBytes, &bytes);
    if (!s) {
      std::fprintf(stderr, "replay: cannot read %s: %s\n", f.c_str(), s.message());
      return 2;
    }
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  }
  std::printf("replayed %zu inputs without a finding\n", files.size());
  return 0;
}
