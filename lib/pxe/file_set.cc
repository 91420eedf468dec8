#include "pxe/file_set.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <functional>
#include <set>
#include <string_view>
#include <unordered_set>

#include "core/error.h"
#include "core/fd.h"
#include "core/parallel.h"
#include "core/statefile.h"

namespace storkit {

namespace {

constexpr const char* kManifestHeader = "storkit-file-set 1\n";
// Up to this many files, fsync each; above it, one syncfs() per file system is far cheaper.
constexpr size_t kSmallBatch = 16;

std::string dir_of(const std::string& p) {
    size_t slash = p.rfind('/');
    return slash == 0 ? "/" : p.substr(0, slash);
}

long long mtime_ns(const struct stat& st) {
    return st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
}

std::string identity(const struct stat& st) {
    return fmt::format("{}:{}:{}:{}", st.st_dev, st.st_ino, st.st_size, mtime_ns(st));
}

// A change hint, not a security check: equal hashes with matching stat mean "as we wrote it".
std::string content_hash(const std::string& s) {
    return fmt::format("{:016x}", std::hash<std::string_view>{}(s));
}

bool same_bytes(const std::string& a_path, const std::string& b_path) {
    std::optional<std::string> a = read_file(a_path), b = read_file(b_path);
    return a && b && *a == *b;
}

// O_PATH descriptors of the directories of many files (there are few), closed at the end.
class DirFds {
  public:
    int at(const std::string& dir) {
        auto [it, fresh] = fds_.try_emplace(dir);
        if (fresh) it->second.reset(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        return it->second.get();
    }

  private:
    std::unordered_map<std::string, UniqueFd> fds_;
};

void sync_dir(const std::string& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd) ::fsync(fd.get());
}

}  // namespace

FileSet::FileSet(std::string manifest_path) : manifest_path_(std::move(manifest_path)) {
    std::optional<std::string> text;
    try {
        text = read_file(manifest_path_);
    } catch (const Error&) {
    }
    if (!text || text->rfind(kManifestHeader, 0) != 0) return;
    std::string_view rest(*text);
    rest.remove_prefix(std::strlen(kManifestHeader));
    manifest_.reserve(static_cast<size_t>(std::count(rest.begin(), rest.end(), '\n')));
    // kind size mtime_ns ino key path, tab-separated
    while (!rest.empty()) {
        size_t nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
        std::string_view f[6];
        for (int i = 0; i < 5; ++i) {
            size_t tab = line.find('\t');
            if (tab == std::string_view::npos) return;  // damaged: ignore the rest
            f[i] = line.substr(0, tab);
            line.remove_prefix(tab + 1);
        }
        f[5] = line;
        Entry e;
        e.kind = static_cast<Kind>(f[0].empty() ? 0 : f[0][0]);
        std::from_chars(f[1].data(), f[1].data() + f[1].size(), e.stat.size);
        std::from_chars(f[2].data(), f[2].data() + f[2].size(), e.stat.mtime_ns);
        std::from_chars(f[3].data(), f[3].data() + f[3].size(), e.stat.ino);
        e.key = std::string(f[4]);
        e.path = std::string(f[5]);
        manifest_.push_back(std::move(e));
    }
}

void FileSet::add(std::string path, Kind kind, std::string data, mode_t mode) {
    Wanted w;
    w.path = std::move(path);
    w.kind = kind;
    w.data = std::move(data);
    w.mode = mode;
    wanted_.push_back(std::move(w));
}

void FileSet::add_content(std::string path, std::string content, mode_t mode, long gid) {
    add(std::move(path), Kind::kContent, std::move(content), mode);
    wanted_.back().gid = gid;
}
void FileSet::add_copy(std::string path, std::string source) {
    add(std::move(path), Kind::kCopy, std::move(source), 0644);
}
void FileSet::add_hardlink(std::string path, std::string source) {
    add(std::move(path), Kind::kHardlink, std::move(source), 0644);
}
void FileSet::add_symlink(std::string path, std::string target) {
    add(std::move(path), Kind::kSymlink, std::move(target), 0777);
}
void FileSet::add_dir(std::string path) {
    dirs_.push_back(std::move(path));
}
void FileSet::add_pending(std::string path) {
    add(std::move(path), Kind::kPending, "", 0644);
}

// `dir_fd`: the file's directory, or -1 when it could not be opened.
void FileSet::examine(Wanted& w, const Entry* e, int dir_fd) const {
    struct stat st {};
    struct stat src {};
    // Relative to the directory: no walk down the whole path for every file.
    const char* name = w.path.c_str() + w.path.rfind('/') + 1;
    bool exists = dir_fd >= 0 ? ::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0
                              : ::lstat(w.path.c_str(), &st) == 0;
    if (!exists && errno != ENOENT)
        throw Error(fmt::format("{}: cannot examine: {}", w.path, errno_text(errno)));
    w.existed = exists;
    w.in_manifest = e != nullptr;
    if (w.kind == Kind::kPending) return;
    if (w.kind == Kind::kCopy || w.kind == Kind::kHardlink) {
        if (::stat(w.data.c_str(), &src) < 0)
            throw Error(
                fmt::format("{}: cannot read {} for {}", w.data, errno_text(errno), w.path));
        w.key = identity(src);
    } else if (w.kind == Kind::kContent) {
        w.key = content_hash(w.data);
    } else {
        w.key = w.data;
    }
    if (!exists) return;
    w.fresh = {static_cast<long long>(st.st_size), mtime_ns(st),
               static_cast<unsigned long long>(st.st_ino)};
    w.confirmed = e && e->kind == w.kind && e->stat == w.fresh && e->key == w.key;
    if (w.kind == Kind::kSymlink) {
        if (!S_ISLNK(st.st_mode)) return;
        std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
        ssize_t n = ::readlink(w.path.c_str(), target.data(), target.size());
        w.unchanged = n == st.st_size && target.compare(0, static_cast<size_t>(n), w.data) == 0;
        return;
    }
    if (!S_ISREG(st.st_mode)) return;
    if (w.kind == Kind::kHardlink && st.st_ino == src.st_ino && st.st_dev == src.st_dev) {
        w.unchanged = true;
        return;
    }
    if ((st.st_mode & 07777) != w.mode) return;
    if (w.gid >= 0 && st.st_gid != static_cast<gid_t>(w.gid)) return;
    if (w.confirmed) {
        w.unchanged = true;
    } else if (w.kind == Kind::kContent) {
        if (static_cast<size_t>(st.st_size) != w.data.size()) return;
        std::optional<std::string> old = read_file(w.path);
        w.unchanged = old && *old == w.data;
    } else {
        w.unchanged = st.st_size == src.st_size && same_bytes(w.path, w.data);
    }
}

const FileSet::Entry* FileSet::entry_for(size_t i) const {
    if (aligned_) return &manifest_[i];
    auto it = manifest_index_.find(wanted_[i].path);
    return it == manifest_index_.end() ? nullptr : &manifest_[it->second];
}

void FileSet::plan() {
    writes_.clear();
    removes_.clear();
    missing_dirs_.clear();
    aligned_ = manifest_.size() == wanted_.size();
    for (size_t i = 0; aligned_ && i < wanted_.size(); ++i)
        aligned_ = manifest_[i].path == wanted_[i].path;
    manifest_index_.clear();
    if (!aligned_) {
        manifest_index_.reserve(manifest_.size());
        for (size_t i = 0; i < manifest_.size(); ++i) manifest_index_.emplace(manifest_[i].path, i);
    }
    DirFds dirs;
    std::vector<int> dir_fd(wanted_.size());
    for (size_t i = 0; i < wanted_.size(); ++i) dir_fd[i] = dirs.at(dir_of(wanted_[i].path));
    // Mostly stat calls: spread over the cores.
    parallel_for(wanted_.size(), [&](size_t i) { examine(wanted_[i], entry_for(i), dir_fd[i]); });

    size_t confirmed = 0, in_manifest = 0;
    for (size_t i = 0; i < wanted_.size(); ++i) {
        const Wanted& w = wanted_[i];
        in_manifest += w.in_manifest ? 1 : 0;
        if (!w.unchanged)
            writes_.push_back(i);
        else if (w.confirmed)
            ++confirmed;
    }
    if (in_manifest != manifest_.size()) find_stale();
    for (const std::string& d : dirs_) {
        struct stat st {};
        if (::stat(d.c_str(), &st) < 0 || !S_ISDIR(st.st_mode)) missing_dirs_.push_back(d);
    }
    manifest_dirty_ = confirmed != manifest_.size() || !writes_.empty();
    planned_ = true;
}

// Files of an earlier run that are no longer wanted (and still exist).
void FileSet::find_stale() {
    std::unordered_set<std::string_view> wanted_paths;
    wanted_paths.reserve(wanted_.size());
    for (const Wanted& w : wanted_) wanted_paths.insert(w.path);
    for (const Entry& e : manifest_) {
        struct stat st {};
        if (!wanted_paths.count(e.path) && ::lstat(e.path.c_str(), &st) == 0 &&
            !S_ISDIR(st.st_mode))
            removes_.push_back(e.path);
    }
    std::sort(removes_.begin(), removes_.end());
}

std::vector<std::string> FileSet::changed() const {
    std::vector<std::string> out;
    for (const std::string& d : missing_dirs_) out.push_back(d + "/");
    for (size_t i : writes_) out.push_back(wanted_[i].path);
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> FileSet::removed() const {
    return removes_;
}

std::vector<std::string> FileSet::replaced() const {
    std::vector<std::string> out;
    for (size_t i : writes_)
        if (wanted_[i].existed) out.push_back(wanted_[i].path);
    std::sort(out.begin(), out.end());
    return out;
}

bool FileSet::write_temp(const Wanted& w, const std::string& tmp, bool sync_now) {
    ::unlink(tmp.c_str());  // left over from a run that was killed
    if (w.kind == Kind::kSymlink) {
        if (::symlink(w.data.c_str(), tmp.c_str()) < 0)
            throw Error(fmt::format("{}: cannot create symlink: {}", tmp, errno_text(errno)));
        return false;
    }
    if (w.kind == Kind::kHardlink) {
        if (::link(w.data.c_str(), tmp.c_str()) == 0) return false;
        if (errno != EXDEV)
            throw Error(fmt::format("{}: cannot link to {}: {}", tmp, w.data, errno_text(errno)));
    }
    // Root's alone until it is renamed into place (finish_temp): a temp file that a kill leaves
    // behind in a served root is served to nobody.
    UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!out) throw Error(fmt::format("{}: cannot create: {}", tmp, errno_text(errno)));
    if (w.kind == Kind::kContent) {
        write_all(out.get(), w.data, tmp);
    } else {
        UniqueFd in(::open(w.data.c_str(), O_RDONLY | O_CLOEXEC));
        if (!in) throw Error(fmt::format("{}: cannot open: {}", w.data, errno_text(errno)));
        read_chunks(in.get(), w.data, 1 << 20, [&](const char* data, size_t size) {
            write_all(out.get(), std::string_view(data, size), tmp);
            return true;
        });
    }
    if (sync_now && ::fsync(out.get()) < 0)
        throw Error(fmt::format("{}: fsync: {}", tmp, errno_text(errno)));
    return true;
}

// The file's own group and mode, given just before it is renamed into place.
void FileSet::finish_temp(const Wanted& w, const std::string& tmp) {
    if (w.gid >= 0 && ::chown(tmp.c_str(), static_cast<uid_t>(-1), static_cast<gid_t>(w.gid)) < 0)
        throw Error(fmt::format("{}: chown: {}", tmp, errno_text(errno)));
    if (::chmod(tmp.c_str(), w.mode) < 0)
        throw Error(fmt::format("{}: chmod: {}", tmp, errno_text(errno)));
}

void FileSet::commit() {
    if (!planned_) plan();
    if (writes_.empty() && removes_.empty() && missing_dirs_.empty() && !manifest_dirty_) {
        remove_leftovers();
        return;
    }
    for (size_t i : writes_)
        if (wanted_[i].kind == Kind::kPending)
            throw Error(fmt::format("{}: its source does not exist yet", wanted_[i].path));
    for (const std::string& d : missing_dirs_) make_dirs(d);
    remove_leftovers();
    write_batch();
    std::set<std::string> removed_from;
    for (const std::string& path : removes_) {
        if (::unlink(path.c_str()) < 0 && errno != ENOENT)
            throw Error(fmt::format("{}: cannot remove: {}", path, errno_text(errno)));
        removed_from.insert(dir_of(path));
    }
    for (const std::string& d : removed_from) sync_dir(d);
    for (size_t i : writes_) {
        Wanted& w = wanted_[i];
        struct stat st {};
        if (::lstat(w.path.c_str(), &st) < 0) continue;
        w.fresh = {static_cast<long long>(st.st_size), mtime_ns(st),
                   static_cast<unsigned long long>(st.st_ino)};
        w.unchanged = true;
    }
    save_manifest();
}

// All temp files, one sync, all renames, then one sync per directory.
void FileSet::write_batch() {
    std::set<std::string> parents;
    for (size_t i : writes_) parents.insert(dir_of(wanted_[i].path));
    for (const std::string& d : parents) make_dirs(d);
    bool small = writes_.size() <= kSmallBatch;
    std::vector<std::string> temps;
    std::vector<bool> own_inode;  // written here (not a link): mode and group still to give
    temps.reserve(writes_.size());
    own_inode.reserve(writes_.size());
    size_t renamed = 0;
    try {
        for (size_t i : writes_) {
            const Wanted& w = wanted_[i];
            temps.push_back(temp_path_for(w.path));
            own_inode.push_back(write_temp(w, temps.back(), small));
        }
        if (!small) {
            std::set<dev_t> synced;
            for (const std::string& d : parents) {
                struct stat st {};
                if (::stat(d.c_str(), &st) < 0 || !synced.insert(st.st_dev).second) continue;
                UniqueFd fd(::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
                if (fd && ::syncfs(fd.get()) < 0)
                    throw Error(fmt::format("{}: syncfs: {}", d, errno_text(errno)));
            }
        }
        for (; renamed < writes_.size(); ++renamed) {
            const std::string& path = wanted_[writes_[renamed]].path;
            if (own_inode[renamed]) finish_temp(wanted_[writes_[renamed]], temps[renamed]);
            if (::rename(temps[renamed].c_str(), path.c_str()) < 0)
                throw Error(
                    fmt::format("{}: cannot rename into place: {}", path, errno_text(errno)));
        }
    } catch (...) {
        for (size_t i = renamed; i < temps.size(); ++i) ::unlink(temps[i].c_str());
        throw;
    }
    for (const std::string& d : parents) sync_dir(d);
}

// Temp files of earlier runs that were killed (SIGKILL, power cut) in every directory this
// set writes to.
void FileSet::remove_leftovers() {
    std::set<std::string> dirs;
    for (const Wanted& w : wanted_) dirs.insert(dir_of(w.path));
    for (const std::string& d : dirs) remove_dead_temps(d);
}

void FileSet::save_manifest() {
    std::string text = kManifestHeader;
    text.reserve(wanted_.size() * 128);
    char num[24];
    auto number = [&](auto v) {
        text.append(num, std::to_chars(num, num + sizeof num, v).ptr);
        text += '\t';
    };
    for (const Wanted& w : wanted_) {
        if (!w.unchanged || w.kind == Kind::kPending) continue;  // e.g. vanished meanwhile
        text += static_cast<char>(w.kind);
        text += '\t';
        number(w.fresh.size);
        number(w.fresh.mtime_ns);
        number(w.fresh.ino);
        text += w.key;
        text += '\t';
        text += w.path;
        text += '\n';
    }
    make_dirs(dir_of(manifest_path_));
    write_file_atomic(manifest_path_, text);
}

}  // namespace storkit
