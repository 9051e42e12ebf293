// POSIX file access: bounded reads of regular files and stdin, atomic replacement, folders
// (creation, listing), queries on paths, removal, and a subprocess's output.
// Every failure becomes a one-line Status naming the path and the OS's reason.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "tinyloop/platform/posix.hpp"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

namespace tinyloop::platform {
namespace {

Status io_fail(const char* what, const char* path, int err) {
  return Status::fail(Error::io_error, "%s '%s': %s", what, path, strerror(err));
}

int open_retry(const char* path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path, flags, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

// Writes all `size` bytes, retrying short writes and EINTR. Returns 0 or an errno value.
int write_all(int fd, const std::uint8_t* p, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return ENOSPC;  // no progress: treat as a full device
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return 0;
}

// Reads until `n` bytes are in or the file ends, retrying short reads and EINTR. Returns 0 or
// an errno value; *got receives the bytes read.
int read_up_to(int fd, std::uint8_t* p, std::size_t n, std::size_t* got) {
  *got = 0;
  while (*got < n) {
    const ssize_t r = ::read(fd, p + *got, n - *got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (r == 0) break;
    *got += static_cast<std::size_t>(r);
  }
  return 0;
}

const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a plain file";
}

// Opens `path` for reading when it is a regular file, whose size is known before a byte is
// read. Anything else (a FIFO, a device, a socket) may have no size and no end, so it is
// refused unread; O_NONBLOCK keeps open() from waiting for a FIFO's writer.
Status open_regular(const char* path, int* fd, std::uint64_t* size) {
  if (path == nullptr || path[0] == '\0') return Status::fail(Error::io_error, "cannot open '': empty path");
  *fd = open_retry(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (*fd < 0) return io_fail("cannot open", path, errno);
  struct stat st;
  if (fstat(*fd, &st) != 0) {
    const int err = errno;
    ::close(*fd);
    return io_fail("cannot stat", path, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(*fd);
    return Status::fail(Error::io_error, "'%s' is %s; only regular files are read", path, file_kind(st.st_mode));
  }
  *size = static_cast<std::uint64_t>(st.st_size);
  return Status::ok();
}

Status over_cap(const char* path, std::uint64_t size, std::size_t cap) {
  return Status::fail(Error::buffer_too_small, "'%s' has %llu bytes, more than the %zu-byte limit", path,
                      static_cast<unsigned long long>(size), cap);
}

// The directory part of `path` ("." when there is none), into `out` of PATH_MAX bytes.
bool parent_directory(const char* path, char* out) {
  const std::size_t len = strlen(path);
  if (len >= PATH_MAX) return false;
  memcpy(out, path, len + 1);
  char* slash = strrchr(out, '/');
  if (slash == nullptr) {
    strcpy(out, ".");
  } else {
    while (slash > out && slash[-1] == '/') --slash;  // "a//b" -> "a"
    if (slash == out) {
      strcpy(out, "/");
    } else {
      *slash = '\0';
    }
  }
  return true;
}

}  // namespace

Status read_file(const char* path, std::size_t cap, std::vector<std::uint8_t>* out) {
  out->clear();
  int fd = -1;
  std::uint64_t size = 0;
  TINYLOOP_TRY(open_regular(path, &fd, &size));
  if (size > cap) {
    ::close(fd);
    return over_cap(path, size, cap);
  }
  // One byte past the size stat gave tells a file that grew while being read; it is read on,
  // up to one byte past the cap.
  out->resize(static_cast<std::size_t>(size) + 1);
  std::size_t got = 0;
  int err = read_up_to(fd, out->data(), out->size(), &got);
  if (err == 0 && got == out->size() && got <= cap) {
    out->resize(cap + 1);
    std::size_t more = 0;
    err = read_up_to(fd, out->data() + got, out->size() - got, &more);
    got += more;
  }
  ::close(fd);
  if (err != 0 || got > cap) out->clear();
  if (err != 0) return io_fail("cannot read", path, err);
  if (got > cap)
    return Status::fail(Error::buffer_too_small, "'%s' grew past the %zu-byte limit while being read", path, cap);
  out->resize(got);
  return Status::ok();
}

Status read_file_head(const char* path, std::size_t n, std::vector<std::uint8_t>* out) {
  out->clear();
  int fd = -1;
  std::uint64_t size = 0;
  TINYLOOP_TRY(open_regular(path, &fd, &size));
  out->resize(size < n ? static_cast<std::size_t>(size) : n);
  std::size_t got = 0;
  const int err = read_up_to(fd, out->data(), out->size(), &got);
  ::close(fd);
  if (err != 0) {
    out->clear();
    return io_fail("cannot read", path, err);
  }
  out->resize(got);
  return Status::ok();
}

Status read_stdin(std::size_t cap, std::vector<std::uint8_t>* out) {
  out->clear();
  std::uint8_t chunk[65536];
  for (;;) {
    std::size_t got = 0;
    const int err = read_up_to(STDIN_FILENO, chunk, sizeof chunk, &got);
    if (err != 0) return io_fail("cannot read", "stdin", err);
    if (got > cap - out->size()) {
      out->clear();
      return Status::fail(Error::buffer_too_small, "stdin holds more than the %zu-byte limit", cap);
    }
    out->insert(out->end(), chunk, chunk + got);
    if (got < sizeof chunk) return Status::ok();  // end of input
  }
}

Status read_file(const char* path, void* buffer, std::size_t capacity, std::size_t* size) {
  if (size != nullptr) *size = 0;
  int fd = -1;
  std::uint64_t file_size = 0;
  TINYLOOP_TRY(open_regular(path, &fd, &file_size));
  if (buffer == nullptr && capacity > 0) {
    ::close(fd);
    return Status::fail(Error::io_error, "cannot read '%s': no buffer", path);
  }
  if (file_size > capacity) {
    ::close(fd);
    if (size != nullptr) *size = static_cast<std::size_t>(file_size);
    return Status::fail(Error::buffer_too_small, "'%s' has %llu bytes, more than the %zu-byte buffer", path,
                        static_cast<unsigned long long>(file_size), capacity);
  }
  std::size_t got = 0;
  int err = read_up_to(fd, static_cast<std::uint8_t*>(buffer), capacity, &got);
  std::uint8_t probe;  // one byte past the buffer tells a full buffer from a file that grew
  std::size_t more = 0;
  if (err == 0 && got == capacity) err = read_up_to(fd, &probe, 1, &more);
  ::close(fd);
  if (err != 0) return io_fail("cannot read", path, err);
  if (more != 0) {
    if (size != nullptr) *size = capacity + 1;
    return Status::fail(Error::buffer_too_small, "'%s' has more than the %zu bytes that fit the buffer", path,
                        capacity);
  }
  if (size != nullptr) *size = got;
  return Status::ok();
}

Status write_file_atomic(const char* path, const void* data, std::size_t size) {
  if (path == nullptr || path[0] == '\0') return Status::fail(Error::io_error, "cannot write '': empty path");
  if (data == nullptr && size > 0) return Status::fail(Error::io_error, "cannot write '%s': no data", path);

  char tmp[PATH_MAX + 32];
  const int tmp_len = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, static_cast<long>(getpid()));
  if (tmp_len < 0 || static_cast<std::size_t>(tmp_len) >= sizeof(tmp)) {
    return io_fail("cannot write", path, ENAMETOOLONG);
  }
  char dir[PATH_MAX];
  if (!parent_directory(path, dir)) return io_fail("cannot write", path, ENAMETOOLONG);

  // Keep the permissions of the file being replaced; new files get 0644 minus the umask.
  mode_t mode = 0644;
  struct stat old;
  if (stat(path, &old) == 0) {
    if (S_ISDIR(old.st_mode)) return io_fail("cannot write", path, EISDIR);
    mode = old.st_mode & 07777;
  }

  const int fd = open_retry(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return io_fail("cannot write", path, errno);  // e.g. missing parent directory

  int err = write_all(fd, static_cast<const std::uint8_t*>(data), size);
  const char* what = "cannot write";
  if (err == 0 && fsync(fd) != 0) {
    err = errno;
    what = "cannot sync";
  }
  if (::close(fd) != 0 && err == 0) {  // close can report a deferred write error (NFS, quotas)
    err = errno;
    what = "cannot write";
  }
  if (err == 0 && rename(tmp, path) != 0) {
    err = errno;
    what = "cannot replace";
  }
  if (err != 0) {
    ::unlink(tmp);
    return io_fail(what, path, err);
  }

  // Make the rename itself durable. Some file systems cannot sync a directory (EINVAL); the
  // data are already in place then, so only a real I/O error is reported.
  const int dfd = open_retry(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    const int rc = fsync(dfd);
    const int derr = errno;
    ::close(dfd);
    if (rc != 0 && derr == EIO) return io_fail("wrote but cannot sync the directory of", path, derr);
  }
  return Status::ok();
}

Status make_directories(const char* path) {
  if (path == nullptr || path[0] == '\0') return Status::fail(Error::io_error, "cannot create directory '': empty path");
  char buf[PATH_MAX];
  const std::size_t len = strlen(path);
  if (len >= sizeof(buf)) return io_fail("cannot create directory", path, ENAMETOOLONG);
  memcpy(buf, path, len + 1);
  // Create each prefix ending before a '/', then the whole path.
  for (std::size_t i = 1; i <= len; ++i) {
    if (i < len && buf[i] != '/') continue;
    if (i < len && buf[i - 1] == '/') continue;  // repeated slashes
    const char saved = buf[i];
    buf[i] = '\0';
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
      const int err = errno;
      return io_fail("cannot create directory", buf, err);
    }
    buf[i] = saved;
  }
  struct stat st;
  if (stat(path, &st) != 0) return io_fail("cannot create directory", path, errno);
  if (!S_ISDIR(st.st_mode)) return io_fail("cannot create directory", path, ENOTDIR);
  return Status::ok();
}

namespace {

bool stat_path(const char* path, struct stat* st) {
  return path != nullptr && path[0] != '\0' && stat(path, st) == 0;
}

}  // namespace

bool exists(const char* path) {
  struct stat st;
  return stat_path(path, &st);
}

bool is_regular_file(const char* path) {
  struct stat st;
  return stat_path(path, &st) && S_ISREG(st.st_mode);
}

bool is_directory(const char* path) {
  struct stat st;
  return stat_path(path, &st) && S_ISDIR(st.st_mode);
}

bool same_file(const char* a, const char* b) {
  struct stat sa, sb;
  if (!stat_path(a, &sa) || !stat_path(b, &sb)) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

Status list_directory(const char* path, std::vector<DirectoryEntry>* out) {
  out->clear();
  if (path == nullptr || path[0] == '\0') return Status::fail(Error::io_error, "cannot list '': empty path");
  DIR* dir = opendir(path);
  if (dir == nullptr) return io_fail("cannot list", path, errno);
  const std::string base = std::string(path) + (path[strlen(path) - 1] == '/' ? "" : "/");
  int err = 0;
  for (;;) {
    errno = 0;
    const dirent* e = readdir(dir);
    if (e == nullptr) {
      err = errno;
      break;
    }
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    DirectoryEntry entry;
    entry.name = e->d_name;
    const std::string full = base + entry.name;
    struct stat st;
    entry.directory = lstat(full.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    entry.regular_file = stat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode);
    out->push_back(std::move(entry));
  }
  closedir(dir);
  if (err != 0) {
    out->clear();
    return io_fail("cannot list", path, err);
  }
  std::sort(out->begin(), out->end(),
            [](const DirectoryEntry& x, const DirectoryEntry& y) { return x.name < y.name; });
  return Status::ok();
}

Status remove_file(const char* path) {
  if (path == nullptr || path[0] == '\0') return Status::fail(Error::io_error, "cannot remove '': empty path");
  struct stat st;
  if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) return io_fail("cannot remove", path, EISDIR);
  if (::unlink(path) != 0) return io_fail("cannot remove", path, errno);
  return Status::ok();
}

std::string executable_path() {
#if defined(__linux__)
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) return std::string(buf, static_cast<std::size_t>(n));
#endif
  return std::string();
}

Status run_command(const char* command, std::size_t cap, std::string* output, int* exit_code) {
  output->clear();
  *exit_code = -1;
  std::FILE* p = popen(command, "r");
  if (p == nullptr) return Status::fail(Error::io_error, "cannot run '%s': %s", command, strerror(errno));
  char chunk[4096];
  bool over = false;
  std::size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, p)) > 0) {
    if (got > cap - output->size()) over = true;  // read on to the end, so the command is not stopped by SIGPIPE
    if (!over) output->append(chunk, got);
  }
  const int status = pclose(p);
  if (status == -1) return Status::fail(Error::io_error, "cannot wait for '%s': %s", command, strerror(errno));
  if (WIFEXITED(status)) *exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) *exit_code = 128 + WTERMSIG(status);
  if (over) {
    output->clear();
    return Status::fail(Error::buffer_too_small, "'%s' printed more than the %zu-byte limit", command, cap);
  }
  return Status::ok();
}

}  // namespace tinyloop::platform
