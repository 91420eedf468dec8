#include "core/trust.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "core/error.h"

namespace storkit {

namespace {

void check_one(const std::string& path, const struct stat& st, bool child_root_owned,
               const std::string& what, const std::string& original) {
    // Name the directory only when it is not the file itself that is at fault.
    std::string subject = S_ISDIR(st.st_mode) ? "directory " + path + " is" : "it is";
    if (st.st_uid != 0)
        throw ConfigError(fmt::format("{} {}: {} owned by uid {}, not root; refusing it", what,
                                      original, subject, st.st_uid));
    bool others_can_write = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
    bool sticky_dir = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) && child_root_owned;
    if (others_can_write && !sticky_dir)
        throw ConfigError(
            fmt::format("{} {}: {} writable by group or others (mode {:04o}); "
                        "refusing it (chmod go-w {})",
                        what, original, subject, st.st_mode & 07777, path));
}

}  // namespace

void require_root_only_writable(const std::string& path, const std::string& what) {
    if (::geteuid() != 0) return;
    char resolved[PATH_MAX];
    if (!::realpath(path.c_str(), resolved))
        throw ConfigError(fmt::format("{} {}: {}", what, path, errno_text(errno)));
    std::string p = resolved;
    struct stat st {};
    if (::stat(p.c_str(), &st) < 0)
        throw ConfigError(fmt::format("{} {}: {}", what, path, errno_text(errno)));
    check_one(p, st, false, what, path);
    bool child_root = st.st_uid == 0;
    while (p != "/") {
        size_t slash = p.rfind('/');
        p = slash == 0 ? "/" : p.substr(0, slash);
        if (::stat(p.c_str(), &st) < 0)
            throw ConfigError(fmt::format("{} {}: {}: {}", what, path, p, errno_text(errno)));
        check_one(p, st, child_root, what, path);
        child_root = st.st_uid == 0;
    }
}

}  // namespace storkit
