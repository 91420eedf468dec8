#include "storkit/file_set.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <functional>
#include <string_view>

#include "storkit/error.h"
#include "storkit/log.h"
#include "storkit/statefile.h"

namespace storkit {

namespace {

constexpr const char* kManifestHeader = "storkit-file-set 1\n";
// Up to this many files, fsync each; above it, one syncfs() per file system is far cheaper.
constexpr size_t kSmallBatch = 16;

std::string dir_of(const std::string& p) {
    size_t slash = p.rfind('/');
    return slash == 0 ? "/" : p.substr(0, slash);
}

std::string base_of(const std::string& p) {
    return p.substr(p.rfind('/') + 1);
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

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

void write_all(int fd, const char* p, size_t n, const std::string& path) {
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) throw Error(fmt::format("{}: write: {}", path, errno_text(errno)));
        p += w;
        n -= static_cast<size_t>(w);
    }
}

bool same_bytes(const std::string& a_path, const std::string& b_path) {
    std::optional<std::string> a = read_file(a_path), b = read_file(b_path);
    return a && b && *a == *b;
}

void sync_dir(const std::string& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
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
        std::from_chars(f[1].data(), f[1].data() + f[1].size(), e.size);
        std::from_chars(f[2].data(), f[2].data() + f[2].size(), e.mtime_ns);
        std::from_chars(f[3].data(), f[3].data() + f[3].size(), e.ino);
        e.key = std::string(f[4]);
        manifest_.emplace(std::string(f[5]), std::move(e));
    }
}

void FileSet::add_content(std::string path, std::string content, mode_t mode) {
    wanted_.push_back({std::move(path), Kind::kContent, std::move(content), mode, {}});
}
void FileSet::add_copy(std::string path, std::string source) {
    wanted_.push_back({std::move(path), Kind::kCopy, std::move(source), 0644, {}});
}
void FileSet::add_hardlink(std::string path, std::string source) {
    wanted_.push_back({std::move(path), Kind::kHardlink, std::move(source), 0644, {}});
}
void FileSet::add_symlink(std::string path, std::string target) {
    wanted_.push_back({std::move(path), Kind::kSymlink, std::move(target), 0777, {}});
}
void FileSet::add_dir(std::string path) {
    dirs_.push_back(std::move(path));
}
void FileSet::add_pending(std::string path) {
    wanted_.push_back({std::move(path), Kind::kPending, {}, 0644, {}});
}

bool FileSet::is_unchanged(Wanted& w, Entry& fresh) {
    struct stat st {
    }, src{};
    bool exists = ::lstat(w.path.c_str(), &st) == 0;
    if (!exists && errno != ENOENT)
        throw Error(fmt::format("{}: cannot examine: {}", w.path, errno_text(errno)));
    w.existed = exists;
    if (w.kind == Kind::kPending) return false;
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
    if (!exists) return false;
    fresh = {w.kind, static_cast<long long>(st.st_size), mtime_ns(st),
             static_cast<unsigned long long>(st.st_ino), w.key};
    if (w.kind == Kind::kSymlink) {
        if (!S_ISLNK(st.st_mode)) return false;
        std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
        ssize_t n = ::readlink(w.path.c_str(), target.data(), target.size());
        return n == st.st_size && target.compare(0, static_cast<size_t>(n), w.data) == 0;
    }
    if (!S_ISREG(st.st_mode)) return false;
    if (w.kind == Kind::kHardlink && st.st_ino == src.st_ino && st.st_dev == src.st_dev)
        return true;
    if ((st.st_mode & 07777) != w.mode) return false;
    auto m = manifest_.find(w.path);
    if (m != manifest_.end() && m->second.kind == fresh.kind && m->second.key == w.key &&
        m->second.size == fresh.size && m->second.mtime_ns == fresh.mtime_ns &&
        m->second.ino == fresh.ino)
        return true;
    if (w.kind == Kind::kContent) {
        if (static_cast<size_t>(st.st_size) != w.data.size()) return false;
        std::optional<std::string> old = read_file(w.path);
        return old && *old == w.data;
    }
    return st.st_size == src.st_size && same_bytes(w.path, w.data);
}

void FileSet::plan() {
    writes_.clear();
    removes_.clear();
    missing_dirs_.clear();
    next_manifest_.clear();
    next_manifest_.reserve(wanted_.size());
    std::unordered_map<std::string, bool> wanted_paths;
    wanted_paths.reserve(wanted_.size());
    for (size_t i = 0; i < wanted_.size(); ++i) {
        Entry fresh;
        wanted_paths.emplace(wanted_[i].path, true);
        if (is_unchanged(wanted_[i], fresh))
            next_manifest_.emplace(wanted_[i].path, std::move(fresh));
        else
            writes_.push_back(i);
    }
    for (const auto& [path, entry] : manifest_) {
        struct stat st {};
        if (!wanted_paths.count(path) && ::lstat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode))
            removes_.push_back(path);
    }
    std::sort(removes_.begin(), removes_.end());
    for (const std::string& d : dirs_) {
        struct stat st {};
        if (::stat(d.c_str(), &st) < 0 || !S_ISDIR(st.st_mode)) missing_dirs_.push_back(d);
    }
    planned_ = true;
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

void FileSet::write_temp(const Wanted& w, const std::string& tmp, bool sync_now) {
    ::unlink(tmp.c_str());  // left over from a run that was killed
    if (w.kind == Kind::kSymlink) {
        if (::symlink(w.data.c_str(), tmp.c_str()) < 0)
            throw Error(fmt::format("{}: cannot create symlink: {}", tmp, errno_text(errno)));
        return;
    }
    if (w.kind == Kind::kHardlink) {
        if (::link(w.data.c_str(), tmp.c_str()) == 0) return;
        if (errno != EXDEV)
            throw Error(fmt::format("{}: cannot link to {}: {}", tmp, w.data, errno_text(errno)));
    }
    Fd out{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, w.mode)};
    if (out.fd < 0) throw Error(fmt::format("{}: cannot create: {}", tmp, errno_text(errno)));
    if (w.kind == Kind::kContent) {
        write_all(out.fd, w.data.data(), w.data.size(), tmp);
    } else {
        Fd in{::open(w.data.c_str(), O_RDONLY | O_CLOEXEC)};
        if (in.fd < 0) throw Error(fmt::format("{}: cannot open: {}", w.data, errno_text(errno)));
        std::vector<char> buf(1 << 20);
        for (;;) {
            ssize_t n = ::read(in.fd, buf.data(), buf.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw Error(fmt::format("{}: read: {}", w.data, errno_text(errno)));
            if (n == 0) break;
            write_all(out.fd, buf.data(), static_cast<size_t>(n), tmp);
        }
    }
    if (::fchmod(out.fd, w.mode) < 0)
        throw Error(fmt::format("{}: chmod: {}", tmp, errno_text(errno)));
    if (sync_now && ::fsync(out.fd) < 0)
        throw Error(fmt::format("{}: fsync: {}", tmp, errno_text(errno)));
}

void FileSet::commit() {
    if (!planned_) plan();
    for (size_t i : writes_)
        if (wanted_[i].kind == Kind::kPending)
            throw Error(fmt::format("{}: its source does not exist yet", wanted_[i].path));
    for (const std::string& d : missing_dirs_) make_dirs(d);
    std::set<std::string> parents;
    for (size_t i : writes_) parents.insert(dir_of(wanted_[i].path));
    for (const std::string& d : parents) make_dirs(d);

    bool small = writes_.size() <= kSmallBatch;
    std::vector<std::string> temps;
    temps.reserve(writes_.size());
    size_t renamed = 0;
    std::string suffix = fmt::format(".tmp.{}", ::getpid());
    try {
        for (size_t i : writes_) {
            const Wanted& w = wanted_[i];
            // A leading dot: dnsmasq's dhcp-hostsdir watcher ignores such names.
            temps.push_back(dir_of(w.path) + "/." + base_of(w.path) + suffix);
            write_temp(w, temps.back(), small);
        }
        if (!small) {
            std::set<dev_t> synced;
            for (const std::string& d : parents) {
                struct stat st {};
                if (::stat(d.c_str(), &st) < 0 || !synced.insert(st.st_dev).second) continue;
                Fd fd{::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
                if (fd.fd >= 0 && ::syncfs(fd.fd) < 0)
                    throw Error(fmt::format("{}: syncfs: {}", d, errno_text(errno)));
            }
        }
        for (; renamed < writes_.size(); ++renamed) {
            const std::string& path = wanted_[writes_[renamed]].path;
            if (::rename(temps[renamed].c_str(), path.c_str()) < 0)
                throw Error(
                    fmt::format("{}: cannot rename into place: {}", path, errno_text(errno)));
        }
    } catch (...) {
        for (size_t i = renamed; i < temps.size(); ++i) ::unlink(temps[i].c_str());
        throw;
    }
    for (const std::string& d : parents) sync_dir(d);

    std::set<std::string> removed_from;
    for (const std::string& path : removes_) {
        if (::unlink(path.c_str()) < 0 && errno != ENOENT)
            throw Error(fmt::format("{}: cannot remove: {}", path, errno_text(errno)));
        removed_from.insert(dir_of(path));
    }
    for (const std::string& d : removed_from) sync_dir(d);

    for (size_t i : writes_) {
        const Wanted& w = wanted_[i];
        struct stat st {};
        if (::lstat(w.path.c_str(), &st) == 0)
            next_manifest_[w.path] = {w.kind, static_cast<long long>(st.st_size), mtime_ns(st),
                                      static_cast<unsigned long long>(st.st_ino), w.key};
    }
    save_manifest();
}

void FileSet::save_manifest() {
    std::vector<const std::pair<const std::string, Entry>*> rows;
    rows.reserve(next_manifest_.size());
    for (const auto& row : next_manifest_) rows.push_back(&row);
    std::sort(rows.begin(), rows.end(), [](auto* a, auto* b) { return a->first < b->first; });
    std::string text = kManifestHeader;
    text.reserve(rows.size() * 120);
    for (const auto* row : rows) {
        const Entry& e = row->second;
        fmt::format_to(std::back_inserter(text), "{}\t{}\t{}\t{}\t{}\t{}\n",
                       static_cast<char>(e.kind), e.size, e.mtime_ns, e.ino, e.key, row->first);
    }
    make_dirs(dir_of(manifest_path_));
    write_file_atomic(manifest_path_, text);
}

}  // namespace storkit
