#include "core/secret.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>

#include "core/error.h"
#include "core/fd.h"

namespace storkit {

namespace {

// `path` opened for reading, checked to be a regular file, with its status in `st`; its content
// (at most 64 KiB: a secret is short) by read_content. ConfigError naming the file otherwise.
UniqueFd open_regular(const std::string& path, const std::string& what, struct stat& st) {
    // O_NOFOLLOW is not used: a symlink to a protected file is fine, fstat checks the target.
    // O_NONBLOCK: a FIFO put there does not hang the open; it is refused below.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd) throw ConfigError(fmt::format("{} {}: {}", what, path, errno_text(errno)));
    if (::fstat(fd.get(), &st) < 0)
        throw ConfigError(fmt::format("{} {}: {}", what, path, errno_text(errno)));
    if (!S_ISREG(st.st_mode))
        throw ConfigError(fmt::format("{} {}: not a regular file", what, path));
    return fd;
}

std::string read_content(int fd, const std::string& path, const std::string& what) {
    try {
        return read_all(fd, path, 65536);
    } catch (const Error& e) {
        throw ConfigError(fmt::format("{} {}", what, e.what()));
    }
}

}  // namespace

std::string read_secret_file(const std::string& path, const std::string& what) {
    struct stat st {};
    UniqueFd fd = open_regular(path, what, st);
    // Its owner is root or whoever runs the tool; as root, root alone: a file another user
    // owns is one they can rewrite.
    if (st.st_uid != 0 && (::geteuid() == 0 || st.st_uid != ::geteuid()))
        throw ConfigError(fmt::format("{} {}: owned by uid {}, not by root{}; refusing it", what,
                                      path, st.st_uid, ::geteuid() == 0 ? "" : " or you"));
    if ((st.st_mode & 0007) != 0)
        throw ConfigError(
            fmt::format("{} {}: mode {:04o} gives others access; refusing it "
                        "(chmod o-rwx {})",
                        what, path, st.st_mode & 07777, path));
    if ((st.st_mode & 0020) != 0)
        throw ConfigError(
            fmt::format("{} {}: mode {:04o} lets its group write it; refusing it "
                        "(chmod g-w {})",
                        what, path, st.st_mode & 07777, path));
    std::string content = read_content(fd.get(), path, what);
    size_t eol = content.find_first_of("\r\n");
    if (eol != std::string::npos) content.resize(eol);
    if (content.empty())
        throw ConfigError(fmt::format("{} {}: the first line is empty", what, path));
    return content;
}

std::string read_root_only_file(const std::string& path, const std::string& what) {
    struct stat st {};
    UniqueFd fd = open_regular(path, what, st);
    if (st.st_uid != 0 || (st.st_mode & 0077) != 0)
        throw ConfigError(fmt::format(
            "{} {}: owner uid {}, mode {:04o}: only root may read it (chown root {} && chmod "
            "600 {})",
            what, path, st.st_uid, st.st_mode & 07777, path, path));
    std::string content = read_content(fd.get(), path, what);
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r'))
        content.pop_back();
    if (content.empty()) throw ConfigError(fmt::format("{} {}: empty", what, path));
    return content;
}

namespace {

std::mutex secret_env_mutex;
std::set<std::string, std::less<>>& secret_env_names() {
    static std::set<std::string, std::less<>> names{kIpmiPasswordEnv};
    return names;
}
// What take_secret_env moved out of the environment, by name.
std::map<std::string, std::string, std::less<>>& taken_secrets() {
    static std::map<std::string, std::string, std::less<>> taken;
    return taken;
}

}  // namespace

bool is_secret_env(std::string_view name) {
    std::lock_guard<std::mutex> lock(secret_env_mutex);
    return secret_env_names().count(name) > 0;
}

void take_secret_env() {
    std::lock_guard<std::mutex> lock(secret_env_mutex);
    for (const std::string& name : secret_env_names()) {
        const char* v = std::getenv(name.c_str());
        if (!v) continue;
        taken_secrets()[name] = v;
        ::unsetenv(name.c_str());
    }
}

std::string load_secret(const std::string& file, const std::string& env_name,
                        const std::string& what) {
    {
        std::lock_guard<std::mutex> lock(secret_env_mutex);
        secret_env_names().insert(env_name);
        if (file.empty()) {
            auto it = taken_secrets().find(env_name);
            if (it != taken_secrets().end() && !it->second.empty()) return it->second;
        }
    }
    if (!file.empty()) return read_secret_file(file, what + " file");
    const char* env = std::getenv(env_name.c_str());
    if (env && *env) return env;
    throw ConfigError(
        fmt::format("no {}: give a file that only its owner can read, or set {}", what, env_name));
}

}  // namespace storkit
