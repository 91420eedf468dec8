#include "core/statefile.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "core/error.h"

namespace storkit {

namespace {

std::string dir_of(const std::string& path) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

void write_all(int fd, const std::string& data, const std::string& path) {
    size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Error(fmt::format("{}: write: {}", path, errno_text(errno)));
        off += static_cast<size_t>(n);
    }
}

}  // namespace

std::optional<std::string> read_file(const std::string& path, uint64_t offset) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return std::nullopt;
        throw Error(fmt::format("{}: cannot open: {}", path, errno_text(errno)));
    }
    // Plain read() from the start, so pipes (--config <(...)) still work.
    if (offset > 0 && ::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) {
        int err = errno;
        ::close(fd);
        throw Error(fmt::format("{}: seek: {}", path, errno_text(err)));
    }
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            throw Error(fmt::format("{}: read: {}", path, errno_text(err)));
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
}

bool write_file_atomic(const std::string& path, const std::string& content, int mode) {
    std::optional<std::string> old;
    try {
        old = read_file(path);
    } catch (const Error&) {
        old.reset();
    }
    if (old && *old == content) return false;

    std::string tmp = path + ".tmp.XXXXXX";
    int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
    if (fd < 0) throw Error(fmt::format("{}: cannot create: {}", tmp, errno_text(errno)));
    try {
        write_all(fd, content, tmp);
        if (::fchmod(fd, static_cast<mode_t>(mode)) < 0)
            throw Error(fmt::format("{}: chmod: {}", tmp, errno_text(errno)));
        if (::fsync(fd) < 0) throw Error(fmt::format("{}: fsync: {}", tmp, errno_text(errno)));
    } catch (...) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) < 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        throw Error(fmt::format("{}: rename: {}", path, errno_text(err)));
    }
    // Make the rename itself durable.
    int dfd = ::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return true;
}

void make_dirs(const std::string& path) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) throw Error(fmt::format("{}: cannot create directory: {}", path, ec.message()));
}

FileLock FileLock::try_acquire(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw Error(fmt::format("{}: cannot open lock file: {}", path, errno_text(errno)));
    if (::flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int err = errno;
        ::close(fd);
        if (err == EWOULDBLOCK)
            throw LockedError(fmt::format("{}: another run holds the lock", path));
        throw Error(fmt::format("{}: flock: {}", path, errno_text(err)));
    }
    return FileLock(fd);
}

FileLock FileLock::acquire(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw Error(fmt::format("{}: cannot open lock file: {}", path, errno_text(errno)));
    while (::flock(fd, LOCK_EX) < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::close(fd);
        throw Error(fmt::format("{}: flock: {}", path, errno_text(err)));
    }
    return FileLock(fd);
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(other.fd_) {
    other.fd_ = -1;
}

FileLock::~FileLock() {
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace storkit
