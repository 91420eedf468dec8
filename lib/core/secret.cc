#include "core/secret.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "core/error.h"

namespace storkit {

std::string read_secret_file(const std::string& path, const std::string& what) {
    // O_NOFOLLOW is not used: a symlink to a protected file is fine, fstat checks the target.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) throw ConfigError(fmt::format("{} {}: {}", what, path, errno_text(errno)));
    struct stat st {};
    if (::fstat(fd, &st) < 0) {
        int err = errno;
        ::close(fd);
        throw ConfigError(fmt::format("{} {}: {}", what, path, errno_text(err)));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        throw ConfigError(fmt::format("{} {}: not a regular file", what, path));
    }
    if ((st.st_mode & 0007) != 0) {
        ::close(fd);
        throw ConfigError(
            fmt::format("{} {}: mode {:04o} gives others access; refusing it "
                        "(chmod o-rwx {})",
                        what, path, st.st_mode & 07777, path));
    }
    std::string content;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            throw ConfigError(fmt::format("{} {}: read: {}", what, path, errno_text(err)));
        }
        if (n == 0) break;
        content.append(buf, static_cast<size_t>(n));
        if (content.size() > 65536) break;  // a secret is one short line
    }
    ::close(fd);
    size_t eol = content.find_first_of("\r\n");
    if (eol != std::string::npos) content.resize(eol);
    if (content.empty())
        throw ConfigError(fmt::format("{} {}: the first line is empty", what, path));
    return content;
}

std::string load_secret(const std::string& file, const std::string& env_name,
                        const std::string& what) {
    if (!file.empty()) return read_secret_file(file, what + " file");
    const char* env = std::getenv(env_name.c_str());
    if (env && *env) return env;
    throw ConfigError(
        fmt::format("no {}: give a file that only its owner can read, or set {}", what, env_name));
}

}  // namespace storkit
