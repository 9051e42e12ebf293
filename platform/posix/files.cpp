// POSIX file access: whole-file reads, atomic replacement, directory creation.
// Every failure becomes a one-line Status naming the path and the OS's reason.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

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

Status read_file(const char* path, std::vector<std::uint8_t>* out) {
  if (path == nullptr || path[0] == '\0') return Status::fail(Error::io_error, "cannot open '': empty path");
  const int fd = open_retry(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_fail("cannot open", path, errno);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return io_fail("cannot stat", path, err);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return io_fail("cannot read", path, EISDIR);
  }
  out->clear();
  // Regular files: read exactly what stat reports, then keep going in case the file grew.
  // Pipes and devices report 0 and are read in chunks until end of file.
  std::size_t used = 0;
  std::size_t want = (S_ISREG(st.st_mode) && st.st_size > 0) ? static_cast<std::size_t>(st.st_size) + 1 : 65536;
  out->resize(want);
  for (;;) {
    if (used == out->size()) out->resize(out->size() * 2);
    const ssize_t n = ::read(fd, out->data() + used, out->size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      out->clear();
      return io_fail("cannot read", path, err);
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  ::close(fd);
  out->resize(used);
  return Status::ok();
}

Status read_file(const char* path, void* buffer, std::size_t capacity, std::size_t* size) {
  if (size != nullptr) *size = 0;
  if (path == nullptr || path[0] == '\0') return Status::fail(Error::io_error, "cannot open '': empty path");
  if (buffer == nullptr && capacity > 0) return Status::fail(Error::io_error, "cannot read '%s': no buffer", path);
  const int fd = open_retry(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_fail("cannot open", path, errno);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return io_fail("cannot stat", path, err);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return io_fail("cannot read", path, EISDIR);
  }
  const bool regular = S_ISREG(st.st_mode);
  if (regular && static_cast<std::uint64_t>(st.st_size) > capacity) {
    ::close(fd);
    if (size != nullptr) *size = static_cast<std::size_t>(st.st_size);
    return Status::fail(Error::buffer_too_small, "'%s' has %llu bytes, more than the %zu-byte buffer", path,
                        static_cast<unsigned long long>(st.st_size), capacity);
  }
  auto* p = static_cast<std::uint8_t*>(buffer);
  std::size_t used = 0;
  for (;;) {
    std::uint8_t probe;  // one byte past the buffer tells a full buffer from a file that grew
    std::uint8_t* dst = used < capacity ? p + used : &probe;
    const std::size_t want = used < capacity ? capacity - used : 1;
    const ssize_t n = ::read(fd, dst, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return io_fail("cannot read", path, err);
    }
    if (n == 0) break;
    if (used >= capacity) {
      ::close(fd);
      if (size != nullptr) *size = capacity + 1;
      return Status::fail(Error::buffer_too_small, "'%s' has more than the %zu bytes that fit the buffer", path,
                          capacity);
    }
    used += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (size != nullptr) *size = used;
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

}  // namespace tinyloop::platform
