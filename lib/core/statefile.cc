#include "core/statefile.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string_view>
#include <thread>
#include <vector>

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

std::string base_of(const std::string& path) {
    size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The pid in a temp file's name `.NAME.tmp.PID` or `.NAME.tmp.PID.XXXXXX` (NAME == `only`
// when given), or nullopt when the name is not one.
std::optional<pid_t> temp_writer(std::string_view entry, std::string_view only) {
    if (entry.size() < 7 || entry[0] != '.') return std::nullopt;
    size_t tag = entry.rfind(".tmp.");
    if (tag == std::string_view::npos || tag < 2) return std::nullopt;
    std::string_view base = entry.substr(1, tag - 1), rest = entry.substr(tag + 5);
    if (!only.empty() && base != only) return std::nullopt;
    size_t dot = rest.find('.');
    std::string_view digits = rest.substr(0, dot);
    if (dot != std::string_view::npos && rest.size() - dot - 1 != 6) return std::nullopt;
    long long pid = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || pid <= 0 ||
        pid > std::numeric_limits<pid_t>::max())
        return std::nullopt;
    return static_cast<pid_t>(pid);
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

    // mkostemp creates it 0600: nobody else reads it until it is complete and renamed.
    std::string tmp = temp_path_for(path) + ".XXXXXX";
    UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
    if (!fd)
        throw Error(fmt::format("{}: cannot create its temporary file in {}: {}", path,
                                dir_of(path), errno_text(errno)));
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
    remove_dead_temps(dir_of(path), base_of(path));
    return true;
}

std::string temp_path_for(const std::string& path) {
    return fmt::format("{}/.{}.tmp.{}", dir_of(path), base_of(path), ::getpid());
}

size_t remove_dead_temps(const std::string& dir, const std::string& name) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return 0;
    std::vector<std::string> dead;
    while (const dirent* e = ::readdir(d)) {
        std::optional<pid_t> pid = temp_writer(e->d_name, name);
        if (!pid || *pid == ::getpid()) continue;
        if (::kill(*pid, 0) == 0 || errno != ESRCH) continue;  // alive (EPERM: someone else's)
        dead.emplace_back(e->d_name);
    }
    ::closedir(d);
    size_t removed = 0;
    for (const std::string& n : dead) {
        std::error_code ec;
        if (std::filesystem::remove_all(dir + "/" + n, ec) > 0 && !ec) ++removed;
    }
    return removed;
}

std::optional<std::string> read_input_file(const std::string& path, size_t max_bytes) {
    // O_NONBLOCK: opening a FIFO nobody writes to returns at once; it is refused below.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd) {
        if (errno == ENOENT) return std::nullopt;
        throw Error(fmt::format("{}: cannot open: {}", path, errno_text(errno)));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) < 0) throw Error(fmt::format("{}: {}", path, errno_text(errno)));
    if (!S_ISREG(st.st_mode)) throw Error(fmt::format("{}: not a regular file", path));
    if (static_cast<uint64_t>(st.st_size) > max_bytes)
        throw Error(
            fmt::format("{}: {} bytes, more than the {} allowed", path, st.st_size, max_bytes));
    return read_all(fd.get(), path, max_bytes);
}

void append_synced(const std::string& path, const std::string& text, int mode) {
    // A file this call creates gets `mode` exactly, whatever the umask. O_NOFOLLOW: in a
    // directory others may write to (the CGI's group), a symlink put there would have root
    // append to whatever it points at.
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, mode));
    if (fd) {
        if (::fchmod(fd.get(), static_cast<mode_t>(mode)) < 0)
            throw Error(fmt::format("{}: chmod: {}", path, errno_text(errno)));
    } else if (errno == EEXIST) {
        fd.reset(::open(path.c_str(), O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC));
    }
    if (!fd && errno == ELOOP) throw Error(fmt::format("{}: a symbolic link; refused", path));
    if (!fd) throw Error(fmt::format("{}: cannot open: {}", path, errno_text(errno)));
    write_all(fd.get(), text, path);
    if (::fsync(fd.get()) < 0) throw Error(fmt::format("{}: fsync: {}", path, errno_text(errno)));
}

void make_dirs(const std::string& path, mode_t mode) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) return;
        throw Error(fmt::format("{}: cannot create directory: a file of that name exists", path));
    }
    std::string parent = dir_of(path);
    if (parent != path && parent != "." && parent != "/") make_dirs(parent, mode);
    if (::mkdir(path.c_str(), mode) < 0) {
        if (errno == EEXIST && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return;
        throw Error(fmt::format("{}: cannot create directory: {}", path, errno_text(errno)));
    }
    // mkdir(2) applies the umask; the directory gets `mode` exactly.
    if (::chmod(path.c_str(), mode) < 0)
        throw Error(fmt::format("{}: chmod: {}", path, errno_text(errno)));
}

namespace {

UniqueFd open_lock_file(const std::string& path) {
    // O_NOFOLLOW: a symlink in a group-writable state directory must not make root create or
    // open a file elsewhere.
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
    // flock(2) needs no write access: a lock file another user created is locked read-only.
    if (!fd && errno == EACCES) fd.reset(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd && errno == ELOOP)
        throw Error(fmt::format("{}: a symbolic link, not a lock file; refused", path));
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
