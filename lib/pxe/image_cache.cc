#include "pxe/image_cache.h"

#include <fcntl.h>
#include <nettle/sha2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/fd.h"
#include "core/log.h"
#include "core/statefile.h"

namespace storkit {

using nlohmann::json;

namespace {

bool is_hex64(const std::string& s) {
    return s.size() == 64 && s.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string base_name(const std::string& p) {
    return p.substr(p.rfind('/') + 1);
}

// The identity of a file's content as far as stat can tell: if none of these changed, the
// content is taken to be the same and is not hashed again.
json file_identity(const struct stat& st) {
    return {{"dev", st.st_dev},
            {"ino", st.st_ino},
            {"size", st.st_size},
            {"mtime_ns", st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec}};
}

}  // namespace

std::string sha256_file(const std::string& path, const Progress& progress) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw Error(fmt::format("{}: cannot open: {}", path, errno_text(errno)));
    struct stat st {};
    ::fstat(fd.get(), &st);
    sha256_ctx ctx;
    sha256_init(&ctx);
    uint64_t done = 0;
    auto last = std::chrono::steady_clock::now();
    read_chunks(fd.get(), path, 1 << 20, [&](const char* data, size_t size) {
        sha256_update(&ctx, size, reinterpret_cast<const uint8_t*>(data));
        done += size;
        auto now = std::chrono::steady_clock::now();
        if (progress && now - last >= std::chrono::milliseconds(200)) {
            last = now;
            progress(done, static_cast<uint64_t>(st.st_size));
        }
        return true;
    });
    if (progress) progress(done, static_cast<uint64_t>(st.st_size));
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx, sizeof digest, digest);
    std::string hex;
    for (uint8_t b : digest) hex += fmt::format("{:02x}", b);
    return hex;
}

std::optional<std::string> expected_sha256(const std::string& iso_path) {
    std::string stem = iso_path.substr(0, iso_path.size() - 4);  // without ".iso"
    std::string name = base_name(iso_path);
    for (const std::string& sum_path : {iso_path + ".sha256", stem + ".sha256"}) {
        std::optional<std::string> text = read_file(sum_path);
        if (!text) continue;
        std::istringstream lines(*text);
        std::string line, only;
        int hashes = 0;
        while (std::getline(lines, line)) {
            std::istringstream words(line);
            std::string hash, file;
            words >> hash >> file;
            if (!is_hex64(hash)) continue;
            ++hashes;
            only = lower(hash);
            if (!file.empty() && file[0] == '*') file.erase(0, 1);
            if (base_name(file) == name) return lower(hash);
        }
        if (hashes == 1) return only;
        throw Error(fmt::format("{}: no SHA-256 for {} in it", sum_path, name));
    }
    return std::nullopt;
}

std::optional<std::string> ImageCache::remembered_sha256(const std::string& iso_path) const {
    struct stat st {};
    if (::stat(iso_path.c_str(), &st) < 0) return std::nullopt;
    std::optional<std::string> text = read_file(dir_ + "/checksums.json");
    if (!text) return std::nullopt;
    json j = json::parse(*text, nullptr, false);
    if (!j.is_object() || !j.contains(iso_path)) return std::nullopt;
    const json& e = j[iso_path];
    if (!e.is_object() || e.value("identity", json()) != file_identity(st)) return std::nullopt;
    std::string sha = e.value("sha256", "");
    return is_hex64(sha) ? std::optional<std::string>(sha) : std::nullopt;
}

void ImageCache::remember_sha256(const std::string& iso_path, const std::string& sha256) const {
    struct stat st {};
    if (::stat(iso_path.c_str(), &st) < 0) return;
    std::optional<std::string> text = read_file(dir_ + "/checksums.json");
    json j = text ? json::parse(*text, nullptr, false) : json::object();
    if (!j.is_object()) j = json::object();
    j[iso_path] = {{"identity", file_identity(st)}, {"sha256", sha256}};
    write_file_atomic(dir_ + "/checksums.json", j.dump(1) + "\n");
}

PreparedImage ImageCache::inspect(const std::string& iso_path, const std::string& kernel,
                                  const std::string& initrd, const Progress& progress) const {
    PreparedImage img;
    img.iso_path = iso_path;
    std::optional<std::string> sha = remembered_sha256(iso_path);
    if (!sha) {
        log::info("hashing {}", iso_path);
        sha = sha256_file(iso_path, progress);
        img.hashed = true;
    }
    img.sha256 = *sha;
    if (std::optional<std::string> want = expected_sha256(iso_path); want && *want != img.sha256)
        throw Error(
            fmt::format("{}: SHA-256 is {} but the repository's checksum file says {}; "
                        "refusing the image",
                        iso_path, img.sha256, *want));
    img.tree = dir_ + "/" + img.sha256;
    struct stat st {};
    img.cached = ::stat(img.tree.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    std::set<std::string> files;
    if (!img.cached) {
        log::info("scanning {}", iso_path);
        img.listing = scan_image(iso_path);
        files.insert(img.listing.files.begin(), img.listing.files.end());
    }
    auto is_file = [&](const std::string& p) {
        if (!img.cached) return files.count(p) > 0;
        struct stat fs {};
        return ::lstat((img.tree + "/" + p).c_str(), &fs) == 0 && S_ISREG(fs.st_mode);
    };
    if (!kernel.empty()) {
        for (const std::string& p : {kernel, initrd})
            if (!is_file(p))
                throw Error(
                    fmt::format("{}: {} is not a file in the image (iso.kernel, "
                                "iso.initrd)",
                                iso_path, p));
        img.boot = {kernel, initrd, "custom"};
    } else {
        img.boot = find_boot_files(is_file, iso_path);
    }
    return img;
}

void ImageCache::store(PreparedImage& img, const Progress& progress) const {
    make_dirs(dir_);
    if (!img.cached) {
        struct stat st {};
        if (::stat(img.tree.c_str(), &st) != 0) {  // not extracted meanwhile by another run
            log::info("extracting {} ({} files, {} MB) into {}", img.iso_path,
                      img.listing.files.size(), img.listing.bytes >> 20, img.tree);
            extract_image(img.iso_path, img.tree, img.listing, progress);
            img.extracted = true;
        }
    }
    if (img.hashed) remember_sha256(img.iso_path, img.sha256);
}

}  // namespace storkit
