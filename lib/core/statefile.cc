#include "core/statefile.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "core/error.h"
#include "core/fd.h"

namespace storkit {

namespace {

std::string dir_of(const std::string& path) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

}  // namespace

std::optional<std::string> read_file(const std::string& path, uint64_t offset) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return std::nullopt;
        throw Error(fmt::format("{}: cannot open: {}", path, errno_text(errno)));
    }
    // Plain read() from the start, so pipes (--config <(...)) still work.
    if (offset > 0 && ::lseek(fd.get(), static_cast<off_t>(offset), SEEK_SET) < 0)
        throw Error(fmt::format("{}: seek: {}", path, errno_text(errno)));
    return read_all(fd.get(), path);
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
    UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
    if (!fd) throw Error(fmt::format("{}: cannot create: {}", tmp, errno_text(errno)));
    try {
        write_all(fd.get(), content, tmp);
        if (::fchmod(fd.get(), static_cast<mode_t>(mode)) < 0)
            throw Error(fmt::format("{}: chmod: {}", tmp, errno_text(errno)));
        if (::fsync(fd.get()) < 0)
            throw Error(fmt::format("{}: fsync: {}", tmp, errno_text(errno)));
    } catch (...) {
        fd.reset();
        ::unlink(tmp.c_str());
        throw;
    }
    fd.reset();
    if (::rename(tmp.c_str(), path.c_str()) < 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        throw Error(fmt::format("{}: rename: {}", path, errno_text(err)));
    }
    // Make the rename itself durable.
    UniqueFd dir(::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir) ::fsync(dir.get());
    return true;
}

void append_synced(const std::string& path, const std::string& text, int mode) {
    // A file this call creates gets `mode` exactly, whatever the umask.
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, mode));
    if (fd) {
        if (::fchmod(fd.get(), static_cast<mode_t>(mode)) < 0)
            throw Error(fmt::format("{}: chmod: {}", path, errno_text(errno)));
    } else if (errno == EEXIST) {
        fd.reset(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
    }
    if (!fd) throw Error(fmt::format("{}: cannot open: {}", path, errno_text(errno)));
    write_all(fd.get(), text, path);
    if (::fsync(fd.get()) < 0) throw Error(fmt::format("{}: fsync: {}", path, errno_text(errno)));
}

void make_dirs(const std::string& path) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) throw Error(fmt::format("{}: cannot create directory: {}", path, ec.message()));
}

namespace {

UniqueFd open_lock_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    // flock(2) needs no write access: a lock file another user created is locked read-only.
    if (!fd && errno == EACCES) fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw Error(fmt::format("{}: cannot open lock file: {}", path, errno_text(errno)));
    return fd;
}

}  // namespace

FileLock FileLock::try_acquire(const std::string& path) {
    UniqueFd fd = open_lock_file(path);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            throw LockedError(fmt::format("{}: another run holds the lock", path));
        throw Error(fmt::format("{}: flock: {}", path, errno_text(errno)));
    }
    return FileLock(std::move(fd));
}

FileLock FileLock::acquire_within(const std::string& path, std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        try {
            return try_acquire(path);
        } catch (const LockedError&) {
            if (std::chrono::steady_clock::now() >= until)
                throw Error(fmt::format("{}: held by another writer for {} s", path,
                                        timeout.count() / 1000.0));
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
}

FileLock FileLock::acquire(const std::string& path) {
    UniqueFd fd = open_lock_file(path);
    while (::flock(fd.get(), LOCK_EX) < 0) {
        if (errno == EINTR) continue;
        throw Error(fmt::format("{}: flock: {}", path, errno_text(errno)));
    }
    return FileLock(std::move(fd));
}

}  // namespace storkit
