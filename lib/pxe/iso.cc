#include "pxe/iso.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <memory>
#include <set>

#include "core/error.h"
#include "core/fd.h"
#include "core/log.h"
#include "core/statefile.h"

namespace storkit {

namespace {

struct ArchiveFree {
    void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

ArchivePtr open_image(const std::string& path) {
    ArchivePtr a(archive_read_new());
    if (!a) throw Error("libarchive: out of memory");
    archive_read_support_format_iso9660(a.get());
    if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK)
        throw Error(fmt::format("{}: cannot read image: {}", path, archive_error_string(a.get())));
    return a;
}

// The next header, or nullptr at the end. Throws on a damaged image.
archive_entry* next_entry(archive* a, const std::string& path) {
    archive_entry* e = nullptr;
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) return nullptr;
    if (r < ARCHIVE_WARN)
        throw Error(fmt::format("{}: cannot read image: {}", path, archive_error_string(a)));
    return e;
}

std::vector<std::string> split(std::string_view p) {
    std::vector<std::string> parts;
    size_t pos = 0;
    while (pos <= p.size()) {
        size_t slash = p.find('/', pos);
        if (slash == std::string_view::npos) slash = p.size();
        if (slash > pos) parts.emplace_back(p.substr(pos, slash - pos));
        pos = slash + 1;
    }
    return parts;
}

std::string join(const std::vector<std::string>& parts) {
    return fmt::format("{}", fmt::join(parts, "/"));
}

enum class Kind { kFile, kDir, kSymlink, kHardlink, kOther };

struct Entry {
    Kind kind = Kind::kOther;
    std::string path;    // clean, relative; "" for the root
    std::string target;  // symlink target or hard link source
};

// Classifies an entry and checks its names; throws Error naming the entry when it would land
// outside the target.
Entry check_entry(archive_entry* e, const std::string& iso) {
    const char* raw = archive_entry_pathname(e);
    std::string name = raw ? raw : "";
    std::optional<std::string> path = safe_entry_path(name);
    if (!path)
        throw Error(
            fmt::format("{}: entry \"{}\" would land outside the target (absolute or "
                        "\"..\"); refusing the image",
                        iso, name));
    Entry out;
    out.path = *path;
    if (const char* hl = archive_entry_hardlink(e)) {
        std::optional<std::string> src = safe_entry_path(hl);
        if (!src || src->empty())
            throw Error(
                fmt::format("{}: hard link \"{}\" -> \"{}\" points outside the image; "
                            "refusing the image",
                            iso, name, hl));
        out.kind = Kind::kHardlink;
        out.target = *src;
        return out;
    }
    switch (archive_entry_filetype(e)) {
        case AE_IFREG: out.kind = Kind::kFile; break;
        case AE_IFDIR: out.kind = Kind::kDir; break;
        case AE_IFLNK:
            out.kind = Kind::kSymlink;
            out.target = archive_entry_symlink(e) ? archive_entry_symlink(e) : "";
            break;
        default: out.kind = Kind::kOther; break;
    }
    if (out.path.empty() && out.kind != Kind::kDir)
        throw Error(
            fmt::format("{}: entry \"{}\" is not a directory but names the root; "
                        "refusing the image",
                        iso, name));
    return out;
}

void check_symlinks(const std::map<std::string, std::string>& links, const std::string& iso) {
    for (const auto& [link, target] : links)
        if (!symlink_stays_inside(link, target, links))
            throw Error(
                fmt::format("{}: symlink \"{}\" -> \"{}\" points outside the image; "
                            "refusing the image",
                            iso, link, target));
}

void make_parents(const std::string& root, const std::string& rel) {
    size_t slash = rel.rfind('/');
    if (slash == std::string::npos) return;
    make_dirs(root + "/" + rel.substr(0, slash), 0755);
}

void write_file(archive* a, archive_entry* e, const std::string& root, const std::string& rel,
                uint64_t& done, const std::function<void(uint64_t)>& tick) {
    make_parents(root, rel);
    std::string path = root + "/" + rel;
    mode_t mode = (archive_entry_perm(e) & 0111) ? 0755 : 0644;
    UniqueFd out(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!out) throw Error(fmt::format("{}: cannot create: {}", path, errno_text(errno)));
    const void* buf = nullptr;
    size_t len = 0;
    la_int64_t off = 0;
    for (;;) {
        int r = archive_read_data_block(a, &buf, &len, &off);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN)
            throw Error(fmt::format("{}: reading image: {}", rel, archive_error_string(a)));
        const char* p = static_cast<const char*>(buf);
        while (len > 0) {
            ssize_t n = ::pwrite(out.get(), p, len, off);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw Error(fmt::format("{}: write: {}", path, errno_text(errno)));
            p += n;
            off += n;
            len -= static_cast<size_t>(n);
            done += static_cast<uint64_t>(n);
        }
        tick(done);
    }
    if (::ftruncate(out.get(), archive_entry_size(e)) < 0)
        throw Error(fmt::format("{}: truncate: {}", path, errno_text(errno)));
    struct timespec times[2] = {{0, UTIME_OMIT}, {archive_entry_mtime(e), 0}};
    ::futimens(out.get(), times);
}

}  // namespace

std::optional<std::string> safe_entry_path(std::string_view name) {
    if (!name.empty() && name[0] == '/') return std::nullopt;
    std::vector<std::string> parts;
    for (std::string& part : split(name)) {
        if (part == "..") return std::nullopt;
        if (part != ".") parts.push_back(std::move(part));
    }
    return join(parts);
}

bool symlink_stays_inside(const std::string& link, const std::string& target,
                          const std::map<std::string, std::string>& links) {
    if (target.empty() || target[0] == '/') return false;
    std::vector<std::string> stack = split(link);
    stack.pop_back();  // resolve relative to the link's directory
    std::deque<std::string> todo;
    for (std::string& p : split(target)) todo.push_back(std::move(p));
    int hops = 0;
    while (!todo.empty()) {
        std::string part = std::move(todo.front());
        todo.pop_front();
        if (part == ".") continue;
        if (part == "..") {
            if (stack.empty()) return false;
            stack.pop_back();
            continue;
        }
        stack.push_back(part);
        auto it = links.find(join(stack));
        if (it == links.end()) continue;
        // Another symlink on the way: continue from where it points, as path lookup would.
        if (++hops > 40 || it->second.empty() || it->second[0] == '/') return false;
        stack.pop_back();
        std::vector<std::string> more = split(it->second);
        todo.insert(todo.begin(), more.begin(), more.end());
    }
    return true;
}

ImageListing scan_image(const std::string& iso_path) {
    ArchivePtr a = open_image(iso_path);
    ImageListing out;
    while (archive_entry* e = next_entry(a.get(), iso_path)) {
        Entry en = check_entry(e, iso_path);
        if (en.kind == Kind::kFile) {
            out.files.push_back(en.path);
            out.bytes += static_cast<uint64_t>(archive_entry_size(e));
        } else if (en.kind == Kind::kSymlink) {
            out.symlinks[en.path] = en.target;
        }
        archive_read_data_skip(a.get());
    }
    check_symlinks(out.symlinks, iso_path);
    return out;
}

void extract_image(const std::string& iso_path, const std::string& dest,
                   const ImageListing& listing, const Progress& progress) {
    // An extraction that was killed left its whole tree behind.
    size_t slash = dest.rfind('/');
    if (slash != std::string::npos && slash > 0)
        remove_dead_temps(dest.substr(0, slash), dest.substr(slash + 1));
    std::string tmp = temp_path_for(dest) + ".XXXXXX";
    if (!::mkdtemp(tmp.data()))
        throw Error(
            fmt::format("{}: cannot create its temporary directory: {}", dest, errno_text(errno)));
    try {
        ArchivePtr a = open_image(iso_path);
        uint64_t done = 0;
        auto last = std::chrono::steady_clock::now();
        auto tick = [&](uint64_t d) {
            auto now = std::chrono::steady_clock::now();
            if (progress && now - last >= std::chrono::milliseconds(200)) {
                last = now;
                progress(d, listing.bytes);
            }
        };
        std::map<std::string, std::string> links;
        std::vector<Entry> hardlinks;
        while (archive_entry* e = next_entry(a.get(), iso_path)) {
            Entry en = check_entry(e, iso_path);
            if (en.kind == Kind::kFile) {
                write_file(a.get(), e, tmp, en.path, done, tick);
            } else if (en.kind == Kind::kDir && !en.path.empty()) {
                make_parents(tmp, en.path + "/x");
            } else if (en.kind == Kind::kSymlink) {
                links[en.path] = en.target;
            } else if (en.kind == Kind::kHardlink) {
                hardlinks.push_back(en);
            }
        }
        // The image could have changed since scan_image(): check its links again, in full.
        check_symlinks(links, iso_path);
        for (const Entry& h : hardlinks) {
            make_parents(tmp, h.path);
            std::string from = tmp + "/" + h.target, to = tmp + "/" + h.path;
            if (::link(from.c_str(), to.c_str()) < 0)
                throw Error(fmt::format("{}: hard link {} -> {}: {}", iso_path, h.path, h.target,
                                        errno_text(errno)));
        }
        for (const auto& [path, target] : links) {
            make_parents(tmp, path);
            std::string at = tmp + "/" + path;
            if (::symlink(target.c_str(), at.c_str()) < 0)
                throw Error(fmt::format("{}: symlink {}: {}", iso_path, path, errno_text(errno)));
        }
        if (progress) progress(done, listing.bytes);
        // Served by the HTTP server, which does not run as root.
        ::chmod(tmp.c_str(), 0755);
        if (::rename(tmp.c_str(), dest.c_str()) < 0)
            throw Error(fmt::format("{}: cannot rename into place: {}", dest, errno_text(errno)));
    } catch (...) {
        std::error_code ec;
        std::filesystem::remove_all(tmp, ec);
        throw;
    }
}

BootFiles find_boot_files(const std::function<bool(const std::string&)>& is_file,
                          const std::string& image_name) {
    static const BootFiles layouts[] = {
        {"images/pxeboot/vmlinuz", "images/pxeboot/initrd.img", "rhel"},
        {"install.amd/vmlinuz", "install.amd/initrd.gz", "debian"},
        {"install/netboot/ubuntu-installer/amd64/linux",
         "install/netboot/ubuntu-installer/amd64/initrd.gz", "debian"},
        {"install/vmlinuz", "install/initrd.gz", "debian"},
    };
    std::vector<std::string> tried;
    for (const BootFiles& l : layouts) {
        if (is_file(l.kernel) && is_file(l.initrd)) return l;
        tried.push_back(l.kernel + " + " + l.initrd);
    }
    throw Error(
        fmt::format("{}: no installer kernel and initrd at the usual places ({}); "
                    "set iso.kernel and iso.initrd",
                    image_name, fmt::join(tried, ", ")));
}

std::string default_kernel_args(const std::string& family) {
    if (family == "debian")
        return "auto=true priority=critical interface=auto url={{ks_url}} hostname={{name}}";
    return "inst.ks={{ks_url}} inst.repo={{repo_url}} ip=dhcp";
}

}  // namespace storkit
