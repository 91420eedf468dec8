#include "pxe/state_access.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "core/error.h"
#include "core/statefile.h"

namespace storkit {

namespace {

void set_access(const std::string& path, gid_t gid, mode_t mode, bool must_exist) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) < 0) {
        if (errno == ENOENT && !must_exist) return;
        throw Error(fmt::format("{}: {}", path, errno_text(errno)));
    }
    if (S_ISLNK(st.st_mode)) throw Error(fmt::format("{}: a symbolic link; refused", path));
    if (st.st_gid != gid && ::chown(path.c_str(), static_cast<uid_t>(-1), gid) < 0)
        throw Error(fmt::format("{}: chown: {}", path, errno_text(errno)));
    if ((st.st_mode & 07777) != mode && ::chmod(path.c_str(), mode) < 0)
        throw Error(fmt::format("{}: chmod: {}", path, errno_text(errno)));
}

}  // namespace

void resolve_cgi_user(PxeConfig& cfg) {
    std::vector<char> buf(16384);
    struct passwd pw {};
    struct passwd* found = nullptr;
    int rc = ::getpwnam_r(cfg.cgi_user.c_str(), &pw, buf.data(), buf.size(), &found);
    if (rc != 0 || !found)
        throw ConfigError(fmt::format(
            "{}: key 'server.user': no user \"{}\" on this machine (the report CGI runs as it); "
            "create it with: useradd --system --no-create-home --shell /usr/sbin/nologin {}",
            cfg.path, cfg.cgi_user, cfg.cgi_user));
    if (found->pw_uid == 0)
        throw ConfigError(
            fmt::format("{}: key 'server.user': \"{}\" is root; the CGI never runs "
                        "as root",
                        cfg.path, cfg.cgi_user));
    cfg.cgi_gid = static_cast<long>(found->pw_gid);
    struct group gr {};
    struct group* g = nullptr;
    std::vector<char> gbuf(16384);
    if (::getgrgid_r(found->pw_gid, &gr, gbuf.data(), gbuf.size(), &g) == 0 && g)
        cfg.cgi_group = g->gr_name;
    else
        cfg.cgi_group = std::to_string(found->pw_gid);
}

void open_state_to_cgi(const PxeConfig& cfg) {
    gid_t gid = static_cast<gid_t>(cfg.cgi_gid);
    std::string dir = cfg.pxe_state();
    make_dirs(dir);
    set_access(dir, gid, 02771, true);
    if (::mkdir(cfg.ks_dir().c_str(), 0750) < 0 && errno != EEXIST)
        throw Error(fmt::format("{}: cannot create: {}", cfg.ks_dir(), errno_text(errno)));
    set_access(cfg.ks_dir(), gid, 02750, true);
    for (const char* name : {"events.jsonl", "leases.json", "table.json"})
        set_access(dir + "/" + name, gid, 0660, false);
    // flock(2) needs no write access: the lock is 0644 whoever creates it (as pxe-report does).
    set_access(dir + "/report.lock", gid, 0644, false);
    set_access(dir + "/installs.json", gid, 0660, false);
}

}  // namespace storkit
