// File descriptors: an owner that closes, and whole reads and writes that retry EINTR and
// throw Error naming the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>

namespace storkit {

// Owns one file descriptor and closes it when destroyed. Empty when it holds -1.
class UniqueFd {
  public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept;
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    // Gives up ownership: the caller closes the returned descriptor.
    int release();
    // Closes the held descriptor (if any) and holds `fd` instead.
    void reset(int fd = -1);

  private:
    int fd_ = -1;
};

// Writes all of `data` to `fd`. Throws Error "<path>: write: <why>".
void write_all(int fd, std::string_view data, const std::string& path);

// Reads `fd` to its end in blocks of up to `block` bytes, calling chunk(data, size) for each;
// stops early when chunk returns false. Throws Error "<path>: read: <why>".
void read_chunks(int fd, const std::string& path, size_t block,
                 const std::function<bool(const char* data, size_t size)>& chunk);

// Everything `fd` gives until its end. Throws Error "<path>: read: <why>", or naming the limit
// when there is more than `limit` bytes (a secret file that is not one, /dev/zero).
std::string read_all(int fd, const std::string& path,
                     size_t limit = std::numeric_limits<size_t>::max());

}  // namespace storkit
