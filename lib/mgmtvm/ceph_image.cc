#include "mgmtvm/ceph_image.h"

#include <fmt/format.h>
#include <rbd/librbd.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/exec.h"
#include "core/json_integer.h"

namespace storkit::ceph {

namespace {
constexpr const char* kQemuImg = "/usr/bin/qemu-img";  // Debian's qemu-utils
}  // namespace

std::optional<uint64_t> image_size(Client& c, const std::string& image) {
    rbd_image_t img = nullptr;
    int r = rbd_open_read_only(c.pool(), image.c_str(), &img, nullptr);
    if (r == -ENOENT) return std::nullopt;
    if (r < 0)
        throw Error(
            fmt::format("ceph: opening image {}/{}: {}", c.options().pool, image, errno_text(r)));
    uint64_t size = 0;
    r = rbd_get_size(img, &size);
    rbd_close(img);
    if (r < 0)
        throw Error(
            fmt::format("ceph: size of image {}/{}: {}", c.options().pool, image, errno_text(r)));
    return size;
}

void create_image(Client& c, const std::string& image, uint64_t bytes) {
    int order = 22;  // 4 MiB objects, rbd's default
    int r = rbd_create(c.pool(), image.c_str(), bytes, &order);
    if (r < 0)
        throw Error(fmt::format("ceph: creating image {}/{} of {} bytes: {}", c.options().pool,
                                image, bytes, errno_text(r)));
}

void grow_image(Client& c, const std::string& image, uint64_t bytes) {
    rbd_image_t img = nullptr;
    int r = rbd_open(c.pool(), image.c_str(), &img, nullptr);
    if (r == 0) {
        r = rbd_resize(img, bytes);
        rbd_close(img);
    }
    if (r < 0)
        throw Error(fmt::format("ceph: growing image {}/{} to {} bytes: {}", c.options().pool,
                                image, bytes, errno_text(r)));
}

DiskFile inspect_disk_file(const std::string& path) {
    ExecRequest req;
    req.argv = {kQemuImg, "info", "--output=json", path};
    req.timeout = std::chrono::seconds(30);
    ExecResult r = run_command(req);
    if (!r.ok())
        throw Error(fmt::format("{}: qemu-img cannot read it: {}{}", path, r.describe(),
                                r.err.empty() ? "" : ": " + r.err.substr(0, r.err.find('\n'))));
    try {
        nlohmann::json j = nlohmann::json::parse(r.out);
        return {path, j.at("format").get<std::string>(),
                json_integer<uint64_t>(j.at("virtual-size"), "virtual-size")};
    } catch (const std::exception& e) {
        throw Error(fmt::format("{}: unexpected answer from qemu-img info: {}", path, e.what()));
    }
}

namespace {

// qemu's name for the image: rbd:POOL/IMAGE:id=CLIENT:conf=FILE. The keyring comes from the
// conf: no key on any command line. A ':' or '\' in a value would split the name.
std::string rbd_target(const ClientOptions& o, const std::string& image) {
    for (const std::string& v : {o.pool, image, o.client, o.conf})
        if (v.find_first_of(":\\@") != std::string::npos)
            throw Error(
                fmt::format("cannot name \"{}\" to qemu-img (it holds ':', '\\' or '@')", v));
    return fmt::format("rbd:{}/{}:id={}:conf={}", o.pool, image, o.client, o.conf);
}

void run_qemu_img(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                  const std::string& what,
                  const std::function<void(const std::string&)>& on_out = {}) {
    ExecRequest req;
    req.argv = argv;
    req.timeout = timeout;
    req.on_out = on_out;
    ExecResult r = run_command(req);
    if (r.ok()) return;
    std::string words = r.err.empty() ? r.out : r.err;
    throw Error(fmt::format("{}: qemu-img: {}{}", what, r.describe(),
                            words.empty() ? "" : ": " + words.substr(0, words.find('\n'))));
}

}  // namespace

void import_disk_file(const ClientOptions& o, const std::string& image, const DiskFile& file,
                      std::chrono::milliseconds timeout,
                      const std::function<void(double)>& progress) {
    std::string target = rbd_target(o, image);
    // -n: the image exists (made to size before); -O raw: rbd holds raw blocks. With -p,
    // qemu-img writes "    (12.50/100%)\r" as it goes.
    std::vector<std::string> argv = {kQemuImg, "convert", "-n", "-f", file.format, "-O", "raw"};
    if (progress) argv.push_back("-p");
    argv.insert(argv.end(), {file.path, target});
    auto on_out = [&progress](const std::string& piece) {
        size_t open = piece.rfind('(');
        if (open == std::string::npos) return;
        try {
            progress(std::stod(piece.substr(open + 1)));
        } catch (const std::exception&) {
            // Not a progress figure.
        }
    };
    run_qemu_img(argv, timeout, fmt::format("importing {} into {}/{}", file.path, o.pool, image),
                 progress ? std::function<void(const std::string&)>(on_out) : nullptr);
    // The guest's bytes, read back from the cluster, must be the file's.
    run_qemu_img({kQemuImg, "compare", "-f", file.format, "-F", "raw", file.path, target}, timeout,
                 fmt::format("comparing {} with {}/{}", file.path, o.pool, image));
}

}  // namespace storkit::ceph
