// Tests for the POSIX platform layer: files, folders, path queries, a subprocess, thread pool,
// ticker, clocks, terminal, interrupt flag.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "support/temp_dir.hpp"
#include "tinyloop/platform/posix.hpp"

namespace tp = tinyloop::platform;
using tinyloop::Error;
using tinyloop::Status;

namespace {

using tinyloop::test::TempDir;

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) names.emplace_back(e->d_name);
  }
  closedir(d);
  return names;
}

bool has_temp_file(const std::string& dir) {
  for (const std::string& n : list_dir(dir)) {
    if (n.find(".tmp.") != std::string::npos) return true;
  }
  return false;
}

constexpr std::size_t kCap = 1 << 20;  // far above every file these tests write

std::string read_string(const std::string& path) {
  std::vector<std::uint8_t> bytes;
  const Status s = tp::read_file(path.c_str(), kCap, &bytes);
  REQUIRE_MESSAGE(s.is_ok(), s.message());
  return std::string(bytes.begin(), bytes.end());
}

Status write_string(const std::string& path, const std::string& text) {
  return tp::write_file_atomic(path.c_str(), text.data(), text.size());
}

bool one_line(const char* message) { return strchr(message, '\n') == nullptr && message[0] != '\0'; }

}  // namespace

TEST_CASE("write_file_atomic creates and replaces a file") {
  TempDir dir;
  const std::string path = dir / "data.bin";
  REQUIRE(write_string(path, "first version").is_ok());
  CHECK(read_string(path) == "first version");
  REQUIRE(write_string(path, "second").is_ok());  // shorter: the old tail must not survive
  CHECK(read_string(path) == "second");
  CHECK_FALSE(has_temp_file(dir.path));

  SUBCASE("binary data with zero bytes") {
    std::vector<std::uint8_t> bytes(100000);
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 131 + (i >> 8));
    REQUIRE(tp::write_file_atomic(path.c_str(), bytes.data(), bytes.size()).is_ok());
    std::vector<std::uint8_t> back;
    REQUIRE(tp::read_file(path.c_str(), kCap, &back).is_ok());
    CHECK(back == bytes);
  }
  SUBCASE("empty file") {
    REQUIRE(tp::write_file_atomic(path.c_str(), nullptr, 0).is_ok());
    std::vector<std::uint8_t> back{1, 2, 3};
    REQUIRE(tp::read_file(path.c_str(), kCap, &back).is_ok());
    CHECK(back.empty());
  }
  SUBCASE("relative path in the current directory") {
    char cwd[4096];
    REQUIRE(getcwd(cwd, sizeof(cwd)) != nullptr);
    REQUIRE(chdir(dir.path.c_str()) == 0);
    const Status s = write_string("relative.txt", "rel");
    REQUIRE(chdir(cwd) == 0);
    REQUIRE(s.is_ok());
    CHECK(read_string(dir / "relative.txt") == "rel");
  }
  SUBCASE("keeps the permissions of the replaced file") {
    REQUIRE(chmod(path.c_str(), 0600) == 0);
    REQUIRE(write_string(path, "third").is_ok());
    struct stat st;
    REQUIRE(stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
}

TEST_CASE("write_file_atomic failures leave the old file and no temporary") {
  TempDir dir;

  SUBCASE("parent directory does not exist") {
    const std::string path = dir / "missing/sub/file.bin";
    const Status s = write_string(path, "x");
    REQUIRE_FALSE(s.is_ok());
    CHECK(s.code() == Error::io_error);
    CHECK(one_line(s.message()));
    CHECK(std::string(s.message()).find(path) != std::string::npos);
    CHECK(std::string(s.message()).find(strerror(ENOENT)) != std::string::npos);
    CHECK(list_dir(dir.path).empty());
  }

  SUBCASE("target is a directory") {
    const std::string path = dir / "adir";
    REQUIRE(mkdir(path.c_str(), 0755) == 0);
    const Status s = write_string(path, "x");
    REQUIRE_FALSE(s.is_ok());
    CHECK(s.code() == Error::io_error);
    CHECK(one_line(s.message()));
    CHECK(std::string(s.message()).find(path) != std::string::npos);
    struct stat st;
    REQUIRE(stat(path.c_str(), &st) == 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK_FALSE(has_temp_file(dir.path));
  }

  SUBCASE("the temporary cannot be created") {
    const std::string path = dir / "keep.txt";
    REQUIRE(write_string(path, "old contents").is_ok());
    // Occupy the temporary's name with a directory so that opening it for writing fails.
    const std::string tmp = path + ".tmp." + std::to_string(static_cast<long>(getpid()));
    REQUIRE(mkdir(tmp.c_str(), 0755) == 0);
    const Status s = write_string(path, "new contents");
    REQUIRE_FALSE(s.is_ok());
    CHECK(one_line(s.message()));
    CHECK(std::string(s.message()).find(path) != std::string::npos);
    CHECK(read_string(path) == "old contents");
    REQUIRE(rmdir(tmp.c_str()) == 0);
    CHECK_FALSE(has_temp_file(dir.path));
  }

  SUBCASE("a write fails half way (file size limit)") {
    // RLIMIT_FSIZE applies to root too: writes past it fail with EFBIG after a short write.
    const std::string path = dir / "keep.txt";
    REQUIRE(write_string(path, "old contents").is_ok());
    struct rlimit saved;
    REQUIRE(getrlimit(RLIMIT_FSIZE, &saved) == 0);
    struct sigaction ignore {}, saved_action {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    REQUIRE(sigaction(SIGXFSZ, &ignore, &saved_action) == 0);
    struct rlimit small = saved;
    small.rlim_cur = 1000;
    REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);

    const std::string big(5000, 'z');
    const Status s = write_string(path, big);

    REQUIRE(setrlimit(RLIMIT_FSIZE, &saved) == 0);
    REQUIRE(sigaction(SIGXFSZ, &saved_action, nullptr) == 0);
    REQUIRE_FALSE(s.is_ok());
    CHECK(s.code() == Error::io_error);
    CHECK(one_line(s.message()));
    CHECK(std::string(s.message()).find(path) != std::string::npos);
    CHECK(std::string(s.message()).find(strerror(EFBIG)) != std::string::npos);
    CHECK(read_string(path) == "old contents");
    CHECK_FALSE(has_temp_file(dir.path));
  }
}

TEST_CASE("read_file reports clear one-line errors") {
  TempDir dir;
  std::vector<std::uint8_t> out;

  SUBCASE("missing file") {
    const std::string path = dir / "nope.bin";
    const Status s = tp::read_file(path.c_str(), kCap, &out);
    REQUIRE_FALSE(s.is_ok());
    CHECK(s.code() == Error::io_error);
    CHECK(std::string(s.message()) == "cannot open '" + path + "': " + strerror(ENOENT));
  }
  SUBCASE("a directory") {
    const Status s = tp::read_file(dir.path.c_str(), kCap, &out);
    REQUIRE_FALSE(s.is_ok());
    CHECK(s.code() == Error::io_error);
    CHECK(one_line(s.message()));
    CHECK(std::string(s.message()).find(dir.path) != std::string::npos);
  }
  SUBCASE("empty path") {
    const Status s = tp::read_file("", kCap, &out);
    REQUIRE_FALSE(s.is_ok());
    CHECK(one_line(s.message()));
  }
}

// A FIFO in `dir`, and a guard that fails the test (SIGALRM) if a read blocks on it.
struct Fifo {
  std::string path;
  explicit Fifo(const TempDir& dir) : path(dir / "fifo") {
    REQUIRE(mkfifo(path.c_str(), 0600) == 0);
    alarm(10);
  }
  ~Fifo() { alarm(0); }
};

TEST_CASE("bounded reads take regular files up to the cap and nothing else") {
  TempDir dir;
  const std::string path = dir / "ten.bin";
  REQUIRE(write_string(path, "0123456789").is_ok());
  std::vector<std::uint8_t> out;

  SUBCASE("a file of exactly the cap is read, one byte more is refused unread") {
    REQUIRE(tp::read_file(path.c_str(), 10, &out).is_ok());
    CHECK(std::string(out.begin(), out.end()) == "0123456789");
    const Status s = tp::read_file(path.c_str(), 9, &out);
    CHECK(s.code() == Error::buffer_too_small);
    CHECK(one_line(s.message()));
    CHECK(std::string(s.message()) == "'" + path + "' has 10 bytes, more than the 9-byte limit");
    CHECK(out.empty());
  }
  SUBCASE("a sparse gigabyte is refused without allocating") {
    const std::string big = dir / "big.bin";
    const int fd = open(big.c_str(), O_WRONLY | O_CREAT, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(ftruncate(fd, off_t(1) << 30) == 0);
    close(fd);
    const Status s = tp::read_file(big.c_str(), kCap, &out);
    CHECK(s.code() == Error::buffer_too_small);
    CHECK(std::string(s.message()).find("1073741824 bytes, more than the 1048576-byte limit") != std::string::npos);
    CHECK(out.capacity() == 0);
  }
  SUBCASE("the head of a file") {
    REQUIRE(tp::read_file_head(path.c_str(), 4, &out).is_ok());
    CHECK(std::string(out.begin(), out.end()) == "0123");
    REQUIRE(tp::read_file_head(path.c_str(), 100, &out).is_ok());
    CHECK(out.size() == 10);
  }
  SUBCASE("a FIFO with no writer is refused at once, by every read") {
    Fifo fifo(dir);
    for (int form = 0; form < 3; ++form) {
      CAPTURE(form);
      std::uint8_t buffer[16];
      std::size_t size = 0;
      const Status s = form == 0   ? tp::read_file(fifo.path.c_str(), kCap, &out)
                       : form == 1 ? tp::read_file_head(fifo.path.c_str(), 8, &out)
                                   : tp::read_file(fifo.path.c_str(), buffer, sizeof buffer, &size);
      CHECK(s.code() == Error::io_error);
      CHECK(std::string(s.message()) == "'" + fifo.path + "' is a FIFO; only regular files are read");
    }
  }
  SUBCASE("a character device is refused") {
    const Status s = tp::read_file("/dev/zero", kCap, &out);
    CHECK(s.code() == Error::io_error);
    CHECK(std::string(s.message()) == "'/dev/zero' is a character device; only regular files are read");
  }
}

TEST_CASE("read_stdin reads a stream up to its cap") {
  const int saved = dup(STDIN_FILENO);
  REQUIRE(saved >= 0);
  auto feed = [](const std::string& text) {  // stdin becomes a pipe holding `text`, then its end
    int p[2];
    REQUIRE(pipe(p) == 0);
    REQUIRE(write(p[1], text.data(), text.size()) == ssize_t(text.size()));
    close(p[1]);
    REQUIRE(dup2(p[0], STDIN_FILENO) == STDIN_FILENO);
    close(p[0]);
  };
  std::vector<std::uint8_t> out;
  feed("0 1 2 3");
  const Status ok = tp::read_stdin(7, &out);
  const std::string got(out.begin(), out.end());
  feed("0 1 2 3");
  const Status over = tp::read_stdin(6, &out);
  REQUIRE(dup2(saved, STDIN_FILENO) == STDIN_FILENO);
  close(saved);
  CHECK(ok.is_ok());
  CHECK(got == "0 1 2 3");
  CHECK(over.code() == Error::buffer_too_small);
  CHECK(std::string(over.message()) == "stdin holds more than the 6-byte limit");
  CHECK(out.empty());
}

TEST_CASE("make_directories") {
  TempDir dir;
  const std::string nested = dir / "a/b/c";
  REQUIRE(tp::make_directories(nested.c_str()).is_ok());
  struct stat st;
  REQUIRE(stat(nested.c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  CHECK(tp::make_directories(nested.c_str()).is_ok());                 // already there
  CHECK(tp::make_directories((dir / "x//y/").c_str()).is_ok());        // odd slashes
  CHECK(stat((dir / "x/y").c_str(), &st) == 0);
  CHECK(tp::make_directories("/").is_ok());

  REQUIRE(write_string(dir / "file", "f").is_ok());
  const Status s = tp::make_directories((dir / "file/sub").c_str());
  REQUIRE_FALSE(s.is_ok());
  CHECK(s.code() == Error::io_error);
  CHECK(one_line(s.message()));
  CHECK(std::string(s.message()).find(dir / "file") != std::string::npos);
}

TEST_CASE("exists, is_regular_file, is_directory") {
  TempDir dir;
  REQUIRE(write_string(dir / "f", "x").is_ok());
  REQUIRE(tp::make_directories((dir / "d").c_str()).is_ok());
  REQUIRE(symlink((dir / "f").c_str(), (dir / "link").c_str()) == 0);
  CHECK(tp::exists((dir / "f").c_str()));
  CHECK(tp::exists((dir / "d").c_str()));
  CHECK(tp::exists((dir / "link").c_str()));
  CHECK_FALSE(tp::exists((dir / "missing").c_str()));
  CHECK_FALSE(tp::exists((dir / "f/below").c_str()));  // a file where a folder is expected
  CHECK_FALSE(tp::exists(""));
  CHECK_FALSE(tp::exists(nullptr));
  CHECK(tp::is_regular_file((dir / "f").c_str()));
  CHECK(tp::is_regular_file((dir / "link").c_str()));  // through the link
  CHECK_FALSE(tp::is_regular_file((dir / "d").c_str()));
  CHECK_FALSE(tp::is_regular_file((dir / "missing").c_str()));
  CHECK(tp::is_directory((dir / "d").c_str()));
  CHECK_FALSE(tp::is_directory((dir / "f").c_str()));
  CHECK_FALSE(tp::is_directory((dir / "missing").c_str()));
}

TEST_CASE("same_file compares the files, not the spellings") {
  TempDir dir;
  REQUIRE(tp::make_directories((dir / "d").c_str()).is_ok());
  REQUIRE(write_string(dir / "d/f", "x").is_ok());
  REQUIRE(write_string(dir / "g", "x").is_ok());
  REQUIRE(link((dir / "d/f").c_str(), (dir / "hard").c_str()) == 0);
  CHECK(tp::same_file((dir / "d/f").c_str(), (dir / "d/f").c_str()));
  CHECK(tp::same_file((dir / "d/f").c_str(), (dir / "d/../d/./f").c_str()));
  CHECK(tp::same_file((dir / "d/f").c_str(), (dir / "hard").c_str()));
  CHECK_FALSE(tp::same_file((dir / "d/f").c_str(), (dir / "g").c_str()));  // equal contents, two files
  CHECK_FALSE(tp::same_file((dir / "d/f").c_str(), (dir / "missing").c_str()));
  CHECK_FALSE(tp::same_file((dir / "missing").c_str(), (dir / "missing").c_str()));
  CHECK_FALSE(tp::same_file("", ""));
}

TEST_CASE("list_directory: sorted entries with their kinds") {
  TempDir dir;
  REQUIRE(write_string(dir / "b.txt", "b").is_ok());
  REQUIRE(write_string(dir / "a.txt", "a").is_ok());
  REQUIRE(tp::make_directories((dir / "sub").c_str()).is_ok());
  REQUIRE(symlink((dir / "sub").c_str(), (dir / "sub-link").c_str()) == 0);
  REQUIRE(symlink((dir / "a.txt").c_str(), (dir / "z-link").c_str()) == 0);
  std::vector<tp::DirectoryEntry> entries;
  REQUIRE(tp::list_directory(dir.path.c_str(), &entries).is_ok());
  REQUIRE(entries.size() == 5);
  CHECK(entries[0].name == "a.txt");
  CHECK(entries[0].regular_file);
  CHECK_FALSE(entries[0].directory);
  CHECK(entries[1].name == "b.txt");
  CHECK(entries[2].name == "sub");
  CHECK(entries[2].directory);
  CHECK_FALSE(entries[2].regular_file);
  CHECK(entries[3].name == "sub-link");
  CHECK_FALSE(entries[3].directory);  // a link to a folder is not entered
  CHECK(entries[4].name == "z-link");
  CHECK(entries[4].regular_file);  // a link to a file is read through

  std::vector<tp::DirectoryEntry> empty;
  REQUIRE(tp::list_directory((dir.path + "/sub/").c_str(), &empty).is_ok());  // trailing slash
  CHECK(empty.empty());

  SUBCASE("errors name the path on one line") {
    for (const std::string& bad : {dir / "missing", dir / "a.txt"}) {
      const Status s = tp::list_directory(bad.c_str(), &entries);
      REQUIRE_FALSE(s.is_ok());
      CHECK(s.code() == Error::io_error);
      CHECK(one_line(s.message()));
      CHECK(std::string(s.message()).find(bad) != std::string::npos);
      CHECK(entries.empty());
    }
    CHECK_FALSE(tp::list_directory("", &entries).is_ok());
  }
}

TEST_CASE("remove_file") {
  TempDir dir;
  REQUIRE(write_string(dir / "f", "x").is_ok());
  REQUIRE(tp::remove_file((dir / "f").c_str()).is_ok());
  CHECK_FALSE(tp::exists((dir / "f").c_str()));
  REQUIRE(tp::make_directories((dir / "d").c_str()).is_ok());
  for (const std::string& bad : {dir / "f", dir / "d"}) {  // now missing; a folder
    const Status s = tp::remove_file(bad.c_str());
    REQUIRE_FALSE(s.is_ok());
    CHECK(s.code() == Error::io_error);
    CHECK(one_line(s.message()));
    CHECK(std::string(s.message()).find(bad) != std::string::npos);
  }
  CHECK(tp::is_directory((dir / "d").c_str()));
  CHECK_FALSE(tp::remove_file("").is_ok());
}

TEST_CASE("run_command collects the output and the exit status") {
  std::string out;
  int code = -5;
  REQUIRE(tp::run_command("printf 'one\\ntwo\\n'", 1024, &out, &code).is_ok());
  CHECK(out == "one\ntwo\n");
  CHECK(code == 0);
  REQUIRE(tp::run_command("echo partial; exit 3", 1024, &out, &code).is_ok());
  CHECK(out == "partial\n");
  CHECK(code == 3);
  REQUIRE(tp::run_command("kill -TERM $$", 1024, &out, &code).is_ok());
  CHECK(code == 128 + SIGTERM);
  REQUIRE(tp::run_command("/nonexistent/tinyloop-command 2>/dev/null", 1024, &out, &code).is_ok());
  CHECK(code == 127);  // the shell's "not found"
  const Status over = tp::run_command("yes | head -c 100000", 1000, &out, &code);
  CHECK(over.code() == Error::buffer_too_small);
  CHECK(one_line(over.message()));
  CHECK(out.empty());
  CHECK(code == 0);  // read to the end: the command was not cut off
}

TEST_CASE("executable_path, physical_memory, terminal") {
#if defined(__linux__)
  const std::string self = tp::executable_path();
  REQUIRE_FALSE(self.empty());
  CHECK(self[0] == '/');
  CHECK(tp::is_regular_file(self.c_str()));
#endif
  CHECK(tp::physical_memory() > (std::size_t(1) << 20));
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  CHECK_FALSE(tp::is_terminal(f));
  CHECK(tp::terminal_columns(f) == 0);
  std::fclose(f);
  CHECK_FALSE(tp::is_terminal(nullptr));
  tp::ignore_file_size_signal();  // callable; its effect is covered by the CLI's file-size test
}

TEST_CASE("thread_cpu_seconds counts this thread's work, not its sleep") {
  const double c0 = tp::thread_cpu_seconds();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const double c1 = tp::thread_cpu_seconds();
  CHECK(c1 >= c0);
  CHECK(c1 - c0 < 0.03);
  volatile double sink = 0;
  const double t0 = tp::now_seconds();
  while (tp::now_seconds() - t0 < 0.05) sink = sink + 1.0;
  CHECK(tp::thread_cpu_seconds() > c1);
}

TEST_CASE("Ticker ticks after its delay, on its own thread, until destroyed") {
  std::atomic<int> ticks{0};
  std::atomic<bool> other_thread{true};
  const std::thread::id me = std::this_thread::get_id();
  {
    tp::Ticker t(0.02, 0.01, [&] {
      if (std::this_thread::get_id() == me) other_thread = false;
      ++ticks;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
  }
  const int seen = ticks.load();
  CHECK(seen >= 2);
  CHECK(other_thread.load());
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  CHECK(ticks.load() == seen);  // none after the destructor

  const double t0 = tp::now_seconds();
  {
    tp::Ticker slow(60.0, 60.0, [&] { ++ticks; });
  }
  CHECK(tp::now_seconds() - t0 < 5.0);  // the destructor does not wait out the delay
  CHECK(ticks.load() == seen);
}

TEST_CASE("clock and CPU count") {
  const double a = tp::now_seconds();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const double b = tp::now_seconds();
  CHECK(b - a >= 0.004);
  CHECK(b - a < 5.0);
  CHECK(tp::hardware_threads() >= 1);
}

namespace {

struct CountCtx {
  std::vector<std::atomic<int>>* runs;
  std::atomic<int>* bad_worker;
  int workers;
};

void count_task(void* ctx, int task, int worker) {
  auto* c = static_cast<CountCtx*>(ctx);
  (*c->runs)[static_cast<std::size_t>(task)].fetch_add(1, std::memory_order_relaxed);
  if (worker < 0 || worker >= c->workers) c->bad_worker->fetch_add(1);
}

}  // namespace

TEST_CASE("ThreadPool runs every task exactly once") {
  for (int workers : {1, 2, 3, 4, 8}) {
    tp::ThreadPool pool(workers);
    REQUIRE(pool.workers() == workers);
    for (int tasks : {0, 1, 2, 3, 5, 7, 8, 9, 64, 1000}) {
      CAPTURE(workers);
      CAPTURE(tasks);
      std::vector<std::atomic<int>> runs(static_cast<std::size_t>(tasks));
      for (auto& r : runs) r.store(0);
      std::atomic<int> bad_worker{0};
      CountCtx ctx{&runs, &bad_worker, workers};
      pool.run(tasks, &count_task, &ctx);
      int wrong = 0;
      for (auto& r : runs) wrong += r.load() != 1;
      CHECK(wrong == 0);
      CHECK(bad_worker.load() == 0);
    }
  }
}

TEST_CASE("ThreadPool is reusable many times") {
  tp::ThreadPool pool(4);
  constexpr int kTasks = 13;
  std::vector<std::atomic<int>> runs(kTasks);
  for (auto& r : runs) r.store(0);
  std::atomic<int> bad_worker{0};
  CountCtx ctx{&runs, &bad_worker, pool.workers()};
  constexpr int kRounds = 5000;
  for (int round = 0; round < kRounds; ++round) {
    pool.run(kTasks, &count_task, &ctx);
    // run() has returned: every task of this round must be visible as done.
    if (runs[kTasks - 1].load() != round + 1 || runs[0].load() != round + 1) {
      FAIL("round " << round << " returned early");
    }
  }
  for (auto& r : runs) CHECK(r.load() == kRounds);
  CHECK(bad_worker.load() == 0);
}

TEST_CASE("ThreadPool(1) runs inline on the calling thread") {
  tp::ThreadPool pool(1);
  CHECK(pool.workers() == 1);
  struct Ctx {
    std::thread::id caller;
    int other_thread = 0;
    int order_errors = 0;
    int next = 0;
  } ctx;
  ctx.caller = std::this_thread::get_id();
  pool.run(
      50,
      [](void* p, int task, int worker) {
        auto* c = static_cast<Ctx*>(p);
        if (std::this_thread::get_id() != c->caller || worker != 0) ++c->other_thread;
        if (task != c->next++) ++c->order_errors;
      },
      &ctx);
  CHECK(ctx.other_thread == 0);
  CHECK(ctx.order_errors == 0);
  CHECK(ctx.next == 50);
}

TEST_CASE("ThreadPool workers really run concurrently, with distinct ids") {
  constexpr int kWorkers = 4;
  tp::ThreadPool pool(kWorkers);
  struct Ctx {
    std::atomic<int> arrived{0};
    std::atomic<int> timed_out{0};
    std::atomic<int> seen[kWorkers];
    std::atomic<int> on_caller{0};
    std::thread::id caller;
  } ctx;
  for (auto& s : ctx.seen) s.store(0);
  ctx.caller = std::this_thread::get_id();
  // Each task waits until all kWorkers tasks have started: only possible if they run on
  // kWorkers different threads at once.
  pool.run(
      kWorkers,
      [](void* p, int, int worker) {
        auto* c = static_cast<Ctx*>(p);
        c->seen[worker].fetch_add(1);
        if (worker == 0 && std::this_thread::get_id() == c->caller) c->on_caller.fetch_add(1);
        c->arrived.fetch_add(1);
        const double deadline = tp::now_seconds() + 20.0;
        while (c->arrived.load() < kWorkers) {
          if (tp::now_seconds() > deadline) {
            c->timed_out.fetch_add(1);
            return;
          }
          std::this_thread::yield();
        }
      },
      &ctx);
  CHECK(ctx.timed_out.load() == 0);
  for (auto& s : ctx.seen) CHECK(s.load() == 1);
  CHECK(ctx.on_caller.load() == 1);  // the caller works as worker 0
}

TEST_CASE("ThreadPool: nested run inside a task runs inline") {
  tp::ThreadPool pool(3);
  struct Ctx {
    tp::ThreadPool* pool;
    std::atomic<int> inner{0};
    std::atomic<int> wrong_worker{0};
  } ctx{&pool};
  pool.run(
      6,
      [](void* p, int, int worker) {
        auto* c = static_cast<Ctx*>(p);
        struct Inner {
          Ctx* c;
          int outer_worker;
        } in{c, worker};
        c->pool->run(
            5,
            [](void* q, int, int w) {
              auto* i = static_cast<Inner*>(q);
              i->c->inner.fetch_add(1);
              if (w != i->outer_worker) i->c->wrong_worker.fetch_add(1);
            },
            &in);
      },
      &ctx);
  CHECK(ctx.inner.load() == 30);
  CHECK(ctx.wrong_worker.load() == 0);
}

TEST_CASE("ThreadPool(0) uses one worker per available CPU; destruction is clean") {
  for (int i = 0; i < 20; ++i) {
    tp::ThreadPool pool(0);
    CHECK(pool.workers() == tp::hardware_threads());
    if (i % 2 == 0) {
      std::vector<std::atomic<int>> runs(10);
      for (auto& r : runs) r.store(0);
      std::atomic<int> bad{0};
      CountCtx ctx{&runs, &bad, pool.workers()};
      pool.run(10, &count_task, &ctx);
      for (auto& r : runs) CHECK(r.load() == 1);
    }
  }  // pools created and destroyed, some never used
}

TEST_CASE("interrupt handler: SIGINT and SIGTERM set the flag") {
  SUBCASE("SIGTERM (in a child process)") {
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      tp::install_interrupt_handler();
      if (tp::interrupted()) _exit(2);
      raise(SIGTERM);
      _exit(tp::interrupted() ? 0 : 1);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  SUBCASE("a second SIGINT kills (in a child process)") {
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      tp::install_interrupt_handler();
      raise(SIGINT);
      if (!tp::interrupted()) _exit(1);
      raise(SIGINT);
      _exit(3);  // not reached
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGINT);
  }
  SUBCASE("SIGINT in this process") {
    tp::install_interrupt_handler();
    CHECK_FALSE(tp::interrupted());
    raise(SIGINT);
    CHECK(tp::interrupted());  // and the process is still alive
  }
}
