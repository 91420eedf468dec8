#include "mgmtvm/backend_sim.h"

#include <sys/stat.h>

#include <cstdlib>

#include "core/error.h"
#include "core/statefile.h"

namespace storkit {

namespace {

std::string trimmed(const std::optional<std::string>& s) {
    if (!s) return "";
    size_t e = s->find_last_not_of(" \t\r\n");
    return e == std::string::npos ? "" : s->substr(0, e + 1);
}

bool valid_key(const std::string& key) {
    return !key.empty() && key.find('/') == std::string::npos && key[0] != '.';
}

}  // namespace

SimStorageConfig parse_sim_storage(const ConfigNode& cfg) {
    cfg.allow_only(kSimStorageKeys);
    SimStorageConfig c;
    c.dir = cfg.string("dir");
    struct stat st {};
    if (!cfg.ok("dir")) return c;
    if (c.dir[0] != '/')
        cfg.problem("dir", "expected an absolute path");
    else if (::stat(c.dir.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
        cfg.problem("dir", fmt::format("{} is not a directory", c.dir));
    return c;
}

SimStorage::SimStorage(SimStorageConfig cfg, StorageContext ctx)
    : cfg_(std::move(cfg)), ctx_(std::move(ctx)) {}

StorageAnswer SimStorage::health(const std::string& file) const {
    std::string v = trimmed(read_file(cfg_.dir + "/" + file));
    if (v.empty() || v == "ok") return {Tri::kYes, "sim: ok"};
    if (v == "fail") return {Tri::kNo, "sim: " + file + " says fail"};
    return {Tri::kUnknown, "sim: " + file + " says " + v};
}

StorageAnswer SimStorage::service_healthy() {
    return health("nodes/" + ctx_.node + "/service");
}
StorageAnswer SimStorage::volume_healthy() {
    return health("volume");
}

StorageAnswer SimStorage::is_master() {
    std::string m = trimmed(read_file(cfg_.dir + "/master"));
    if (m.empty()) return {Tri::kUnknown, "sim: no master"};
    return {m == ctx_.node ? Tri::kYes : Tri::kNo, "sim: master is " + m};
}

double SimStorage::now() const {
    std::string c = trimmed(read_file(cfg_.dir + "/clock"));
    if (c.empty()) return Storage::now();
    char* end = nullptr;
    double v = std::strtod(c.c_str(), &end);
    if (end == c.c_str()) throw Error(fmt::format("{}/clock: not a number: {}", cfg_.dir, c));
    return v;
}

VmLease SimStorage::read_lease() const {
    VmLease l;
    std::optional<std::string> text = read_file(cfg_.dir + "/lease.json");
    if (text) {
        try {
            l = VmLease::from_json(nlohmann::json::parse(*text));
        } catch (const std::exception& e) {
            throw Error(fmt::format("{}/lease.json: {}", cfg_.dir, e.what()));
        }
    }
    l.now = now();
    return l;
}

void SimStorage::write_lease(const VmLease& l) const {
    write_file_atomic(cfg_.dir + "/lease.json", l.to_json().dump() + "\n");
}

bool SimStorage::lease_cut_off() const {
    return trimmed(read_file(cfg_.dir + "/nodes/" + ctx_.node + "/lease")) == "fail";
}

VmLeaseOutcome SimStorage::lease_read() {
    if (lease_cut_off()) return {VmLeaseStatus::kError, {}, "sim: lease operations fail here"};
    FileLock lock = FileLock::acquire(cfg_.dir + "/lease.lock");
    return {VmLeaseStatus::kOk, read_lease(), "sim"};
}

VmLeaseOutcome SimStorage::lease_acquire(double seconds) {
    if (lease_cut_off()) return {VmLeaseStatus::kError, {}, "sim: lease operations fail here"};
    FileLock lock = FileLock::acquire(cfg_.dir + "/lease.lock");
    VmLease l = read_lease();
    if (l.live() && l.node != ctx_.node)
        return {VmLeaseStatus::kBusy, l, fmt::format("held by {} (epoch {})", l.node, l.epoch)};
    l.node = ctx_.node;
    l.epoch += 1;
    l.expires = l.now + seconds;
    l.released = false;
    write_lease(l);
    return {VmLeaseStatus::kOk, l, fmt::format("acquired epoch {}", l.epoch)};
}

VmLeaseOutcome SimStorage::lease_renew(double seconds) {
    if (lease_cut_off()) return {VmLeaseStatus::kError, {}, "sim: lease operations fail here"};
    FileLock lock = FileLock::acquire(cfg_.dir + "/lease.lock");
    VmLease l = read_lease();
    if (l.node != ctx_.node || l.released)
        return {
            VmLeaseStatus::kLost, l,
            l.node.empty() ? "no lease" : fmt::format("held by {} (epoch {})", l.node, l.epoch)};
    l.expires = l.now + seconds;
    write_lease(l);
    return {VmLeaseStatus::kOk, l, fmt::format("renewed epoch {}", l.epoch)};
}

VmLeaseOutcome SimStorage::lease_release() {
    if (lease_cut_off()) return {VmLeaseStatus::kError, {}, "sim: lease operations fail here"};
    FileLock lock = FileLock::acquire(cfg_.dir + "/lease.lock");
    VmLease l = read_lease();
    if (l.node != ctx_.node || l.released) return {VmLeaseStatus::kLost, l, "not held here"};
    l.released = true;
    write_lease(l);
    return {VmLeaseStatus::kOk, l, fmt::format("released epoch {}", l.epoch)};
}

StorageAnswer SimStorage::fence(const VmLease& previous) {
    if (trimmed(read_file(cfg_.dir + "/fence")) == "fail")
        return {Tri::kNo, "sim: fencing fails (" + cfg_.dir + "/fence)"};
    // Every client but this node loses access, as Ceph's blocklist does for the image's watchers.
    FileLock lock = FileLock::acquire(cfg_.dir + "/lease.lock");
    VmLease l = read_lease();
    std::string line =
        nlohmann::json{
            {"time", l.now}, {"epoch", l.epoch}, {"by", ctx_.node}, {"previous", previous.node}}
            .dump() +
        "\n";
    std::string log = read_file(cfg_.dir + "/fence.log").value_or("");
    write_file_atomic(cfg_.dir + "/fence.log", log + line);
    return {Tri::kYes, fmt::format("sim: fenced every client but {}", ctx_.node)};
}

std::optional<std::string> SimStorage::shared_read(const std::string& key) {
    if (!valid_key(key)) throw Error("sim: bad shared key " + key);
    return read_file(cfg_.dir + "/shared/" + key);
}

void SimStorage::shared_write(const std::string& key, const std::string& value) {
    if (!valid_key(key)) throw Error("sim: bad shared key " + key);
    make_dirs(cfg_.dir + "/shared");
    write_file_atomic(cfg_.dir + "/shared/" + key, value);
}

}  // namespace storkit
