#include "core/secret.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "core/error.h"
#include "core/fd.h"

namespace storkit {

std::string read_secret_file(const std::string& path, const std::string& what) {
    // O_NOFOLLOW is not used: a symlink to a protected file is fine, fstat checks the target.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd) throw ConfigError(fmt::format("{} {}: {}", what, path, errno_text(errno)));
    struct stat st {};
    if (::fstat(fd.get(), &st) < 0)
        throw ConfigError(fmt::format("{} {}: {}", what, path, errno_text(errno)));
    if (!S_ISREG(st.st_mode))
        throw ConfigError(fmt::format("{} {}: not a regular file", what, path));
    if ((st.st_mode & 0007) != 0)
        throw ConfigError(
            fmt::format("{} {}: mode {:04o} gives others access; refusing it "
                        "(chmod o-rwx {})",
                        what, path, st.st_mode & 07777, path));
    std::string content;
    try {
        content = read_all(fd.get(), path, 65536);  // a secret is one short line
    } catch (const Error& e) {
        throw ConfigError(fmt::format("{} {}", what, e.what()));
    }
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
