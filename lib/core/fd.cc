#include "core/fd.h"

#include <unistd.h>

#include <cerrno>
#include <vector>

#include "core/error.h"

namespace storkit {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
}

int UniqueFd::release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
}

void UniqueFd::reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

void write_all(int fd, std::string_view data, const std::string& path) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Error(fmt::format("{}: write: {}", path, errno_text(errno)));
        data.remove_prefix(static_cast<size_t>(n));
    }
}

void read_chunks(int fd, const std::string& path, size_t block,
                 const std::function<bool(const char* data, size_t size)>& chunk) {
    std::vector<char> buf(block);
    for (;;) {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Error(fmt::format("{}: read: {}", path, errno_text(errno)));
        if (n == 0 || !chunk(buf.data(), static_cast<size_t>(n))) return;
    }
}

std::string read_all(int fd, const std::string& path, size_t limit) {
    std::string out;
    read_chunks(fd, path, 65536, [&](const char* data, size_t size) {
        out.append(data, size);
        return out.size() <= limit;
    });
    if (out.size() > limit)
        throw Error(fmt::format("{}: more than the {} bytes allowed", path, limit));
    return out;
}

}  // namespace storkit
