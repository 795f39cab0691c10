#pragma once
// A file read by path with pread, before or beside SQLite (internal to crypto/): the
// store's own checks of its header (encrypted_store.cpp) and `check`'s page walk
// (verify_store.cpp). Owns its descriptor.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <filesystem>

namespace teduh::crypto::detail {

struct RawFile {
  int fd = -1;
  explicit RawFile(const std::filesystem::path& p) : fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~RawFile() {
    if (fd >= 0) ::close(fd);
  }
  RawFile(const RawFile&) = delete;
  RawFile& operator=(const RawFile&) = delete;
  // Up to n bytes at offset; fewer at the end of the file or on an error.
  std::size_t read_at(std::uint8_t* buf, std::size_t n, std::uint64_t off) const {
    std::size_t got = 0;
    while (got < n) {
      const ssize_t r = ::pread(fd, buf + got, n - got, static_cast<off_t>(off + got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      got += static_cast<std::size_t>(r);
    }
    return got;
  }
};

}  // namespace teduh::crypto::detail
