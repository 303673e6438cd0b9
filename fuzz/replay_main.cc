// A main() for fuzz targets built without libFuzzer: runs every file named
// on the command line (directories: every file in them, recursively, in
// name order) through LLVMFuzzerTestOneInput once. soccr_fuzzer
// (bazel/fuzz.bzl) links it into the corpus tests and, outside
// --config=fuzz, into the fuzzer binaries, which then reproduce a crash
// input with gcc alone:
//
//   bazel-bin/fuzz/image_parser_fuzzer crash-1234abcd
//
// Fails when given no input at all, so a corpus that went missing cannot
// pass as an empty success.

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc,
                                                          char*** argv);

namespace {

bool Collect(const std::string& path, std::vector<std::string>& files) {
  struct stat st = {};
  if (::stat(path.c_str(), &st) != 0) {
    fprintf(stderr, "replay: %s: %s\n", path.c_str(), strerror(errno));
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    files.push_back(path);
    return true;
  }
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) {
    fprintf(stderr, "replay: %s: %s\n", path.c_str(), strerror(errno));
    return false;
  }
  std::vector<std::string> names;
  while (const struct dirent* e = ::readdir(dir)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
      names.push_back(e->d_name);
    }
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    if (!Collect(path + "/" + name, files)) return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] == '-') {
      fprintf(stderr,
              "replay: %s: this binary was built without libFuzzer and only "
              "replays files; build with --config=fuzz to fuzz\n",
              argv[i]);
      return 2;
    }
    if (!Collect(argv[i], files)) return 1;
  }
  if (files.empty()) {
    fprintf(stderr, "replay: no inputs given\n");
    return 1;
  }
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)),
                            std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      fprintf(stderr, "replay: cannot read %s\n", file.c_str());
      return 1;
    }
    // An allocation of exactly the input's size, so that a sanitizer sees
    // any read past its end.
    std::unique_ptr<uint8_t[]> copy(
        new uint8_t[bytes.size() + (bytes.empty() ? 1 : 0)]);
    memcpy(copy.get(), bytes.data(), bytes.size());
    fprintf(stderr, "replay: %s (%zu bytes)\n", file.c_str(), bytes.size());
    LLVMFuzzerTestOneInput(copy.get(), bytes.size());
  }
  fprintf(stderr, "replay: %zu inputs, all passed\n", files.size());
  return 0;
}
