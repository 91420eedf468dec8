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

std::string parent_of(const std::string& path) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// `path` (resolved) and every directory above it.
void check_chain(const std::string& path, const std::string& what, const std::string& original,
                 bool child_root_owned) {
    char resolved[PATH_MAX];
    if (!::realpath(path.c_str(), resolved))
        throw ConfigError(fmt::format("{} {}: {}", what, original, errno_text(errno)));
    std::string p = resolved;
    struct stat st {};
    if (::stat(p.c_str(), &st) < 0)
        throw ConfigError(fmt::format("{} {}: {}", what, original, errno_text(errno)));
    check_one(p, st, child_root_owned, what, original);
    bool child_root = st.st_uid == 0;
    while (p != "/") {
        size_t slash = p.rfind('/');
        p = slash == 0 ? "/" : p.substr(0, slash);
        if (::stat(p.c_str(), &st) < 0)
            throw ConfigError(fmt::format("{} {}: {}: {}", what, original, p, errno_text(errno)));
        check_one(p, st, child_root, what, original);
        child_root = st.st_uid == 0;
    }
}

}  // namespace

void require_root_only_writable(const std::string& path, const std::string& what) {
    if (::geteuid() != 0) return;
    // Every symlink on the way is an entry that its directory's writers could replace: each
    // link's own directory is checked as well as the file it leads to.
    std::string p = path;
    for (int hops = 0;; ++hops) {
        struct stat lst {};
        if (::lstat(p.c_str(), &lst) < 0 || !S_ISLNK(lst.st_mode)) break;
        if (hops == 40) throw ConfigError(fmt::format("{} {}: too many symlinks", what, path));
        if (lst.st_uid != 0)
            throw ConfigError(
                fmt::format("{} {}: symlink {} is owned by uid {}, not root; "
                            "refusing it",
                            what, path, p, lst.st_uid));
        std::string dir = parent_of(p);
        check_chain(dir, what, path, true);
        char target[PATH_MAX];
        ssize_t n = ::readlink(p.c_str(), target, sizeof target - 1);
        if (n < 0) throw ConfigError(fmt::format("{} {}: {}", what, path, errno_text(errno)));
        std::string t(target, static_cast<size_t>(n));
        p = t.starts_with('/') ? t : dir + "/" + t;
    }
    check_chain(path, what, path, false);
}

}  // namespace storkit
