#include "mgmtvm/backend_sim.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "core/clock.h"
#include "core/deadline.h"
#include "core/error.h"
#include "core/fd.h"
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

// One fault file (see backend_sim.h): ok, fail, slow [S], stall [S] or anything else (unknown).
struct Fault {
    enum Kind { kOk, kFail, kSlow, kStall, kUnknown } kind = kOk;
    double slow_s = 60;  // slow and stall: for how long
    std::string file;    // relative to DIR, for the detail
    std::string text;    // what it holds
};

// Is the fault `word` or `word S`? Takes S into f.slow_s.
bool with_seconds(Fault& f, std::string_view word) {
    if (f.text != word && f.text.rfind(std::string(word) + " ", 0) != 0) return false;
    const char* from = f.text.c_str() + word.size();
    char* end = nullptr;
    double s = std::strtod(from, &end);
    if (end != from && s >= 0) f.slow_s = s;
    return true;
}

Fault read_fault(const std::string& dir, const std::string& file) {
    Fault f;
    f.file = file;
    f.text = trimmed(read_file(dir + "/" + file));
    if (f.text.empty() || f.text == "ok") return f;
    if (f.text == "fail") {
        f.kind = Fault::kFail;
    } else if (with_seconds(f, "slow") || with_seconds(f, "stall")) {
        f.kind = f.text[1] == 'l' ? Fault::kSlow : Fault::kStall;
    } else {
        f.kind = Fault::kUnknown;
    }
    return f;
}

// Reads a fault file and sleeps out "slow": the call then goes on as if it said "ok" (the
// caller gave up on it at its deadline; this thread carries it out late, if still alive).
Fault fault(const std::string& dir, const std::string& file) {
    Fault f = read_fault(dir, file);
    if (f.kind == Fault::kSlow) {
        std::this_thread::sleep_for(std::chrono::duration<double>(f.slow_s));
        f.kind = Fault::kOk;
    }
    if (f.kind == Fault::kStall) f.kind = Fault::kOk;  // the caller has waited it out
    return f;
}

// "stall": the caller itself blocks, before the call and past its deadline, as a storage client
// that does not honour its timeouts would.
void stall_caller(const std::string& dir, const std::string& file) {
    Fault f = read_fault(dir, file);
    if (f.kind == Fault::kStall)
        std::this_thread::sleep_for(std::chrono::duration<double>(f.slow_s));
}

std::string said(const Fault& f) {
    return "sim: " + f.file + " says " + f.text;
}

StorageAnswer health_answer(const Fault& f) {
    if (f.kind == Fault::kOk) return {Tri::kYes, "sim: ok"};
    if (f.kind == Fault::kFail) return {Tri::kNo, said(f)};
    return {Tri::kUnknown, said(f)};
}

std::string node_file(const StorageContext& x, const char* part) {
    return "nodes/" + x.node + "/" + part;
}

double sim_now(const std::string& dir) {
    std::string c = trimmed(read_file(dir + "/clock"));
    if (c.empty()) return now_seconds();
    char* end = nullptr;
    double v = std::strtod(c.c_str(), &end);
    if (end == c.c_str()) throw Error(fmt::format("{}/clock: not a number: {}", dir, c));
    return v;
}

// The lease record; the caller holds DIR/lease.lock.
VmLease read_lease(const std::string& dir) {
    VmLease l;
    std::optional<std::string> text = read_file(dir + "/lease.json");
    if (text) {
        // As the Ceph backend: a record that cannot be read counts as never held, and the next
        // acquire replaces it (a start under it fences first).
        try {
            l = VmLease::from_json(nlohmann::json::parse(*text));
        } catch (const std::exception& e) {
            l = VmLease{};
            l.unreadable = fmt::format("{}/lease.json: {}", dir, e.what());
        }
    }
    l.now = sim_now(dir);
    return l;
}

void write_lease(const std::string& dir, const VmLease& l) {
    write_file_atomic(dir + "/lease.json", l.to_json().dump() + "\n");
}

using LeaseOp = std::function<VmLeaseOutcome(VmLease&)>;

// One lease operation under the lease lock, through this node's lease fault file.
VmLeaseOutcome lease_call(const SimStorageConfig& c, const StorageContext& x, const LeaseOp& op) {
    Fault f = fault(c.dir, node_file(x, "lease"));
    if (f.kind == Fault::kFail)
        return {VmLeaseStatus::kError, {}, "sim: lease operations fail here"};
    FileLock lock = FileLock::acquire(c.dir + "/lease.lock");
    VmLease l = read_lease(c.dir);
    VmLeaseOutcome out = op(l);
    if (f.kind == Fault::kUnknown)
        return {VmLeaseStatus::kError, {}, said(f) + ": the answer was lost (" + out.detail + ")"};
    return out;
}

StorageAnswer fence_call(const SimStorageConfig& c, const StorageContext& x, uint64_t epoch) {
    Fault f = fault(c.dir, "fence");
    if (f.kind == Fault::kFail) return {Tri::kNo, "sim: fencing fails (" + c.dir + "/fence)"};
    // Every client but this node's loses access, as Ceph's blocklist does for the image's
    // watchers.
    std::vector<uint64_t> cut = SimDisk(c.dir).blocklist_all_but(x.node);
    {
        FileLock lock = FileLock::acquire(c.dir + "/lease.lock");
        VmLease l = read_lease(c.dir);
        nlohmann::json line = {
            {"time", l.now}, {"epoch", epoch}, {"by", x.node}, {"blocklisted", cut}};
        std::string log = read_file(c.dir + "/fence.log").value_or("");
        write_file_atomic(c.dir + "/fence.log", log + line.dump() + "\n");
    }
    if (f.kind == Fault::kUnknown) return {Tri::kUnknown, said(f) + ": fenced, answer lost"};
    return {Tri::kYes, fmt::format("sim: fenced every client but {}", x.node)};
}

std::string late(const SimStorageConfig& c, const char* what) {
    return fmt::format("sim: {}: no answer within {} s", what, c.timeout.count() / 1000.0);
}

// Runs one call on its own thread: an answer past the deadline is unknown.
// Takes the lease `l` for this node with a new epoch, if it is free, expired, already ours, or
// still held by `confirmed_down` (that node and epoch, confirmed off by an operator).
VmLeaseOutcome take_lease(const SimStorageConfig& c, const StorageContext& x, double seconds,
                          VmLease& l, const std::optional<VmLease>& confirmed_down) {
    bool as_confirmed =
        confirmed_down && l.node == confirmed_down->node && l.epoch == confirmed_down->epoch;
    if (l.live() && l.node != x.node && !as_confirmed)
        return {VmLeaseStatus::kBusy, l, fmt::format("held by {} (epoch {})", l.node, l.epoch)};
    l.node = x.node;
    l.epoch += 1;
    l.expires = l.now + seconds;
    l.released = false;
    write_lease(c.dir, l);
    if (as_confirmed)
        return {VmLeaseStatus::kOk, l,
                fmt::format("acquired epoch {} from {}, confirmed down", l.epoch,
                            confirmed_down->node)};
    return {VmLeaseStatus::kOk, l, fmt::format("acquired epoch {}", l.epoch)};
}

StorageAnswer answer_in_time(const SimStorageConfig& c, const char* what,
                             std::function<StorageAnswer()> fn) {
    std::optional<StorageAnswer> a = call_with_deadline<StorageAnswer>(std::move(fn), c.timeout);
    return a ? *a : StorageAnswer{Tri::kUnknown, late(c, what)};
}

VmLeaseOutcome lease_in_time(const SimStorageConfig& c, const StorageContext& x, const char* what,
                             LeaseOp op) {
    stall_caller(c.dir, node_file(x, "lease"));
    std::optional<VmLeaseOutcome> l = call_with_deadline<VmLeaseOutcome>(
        [c, x, op = std::move(op)] { return lease_call(c, x, op); }, c.timeout);
    return l ? *l : VmLeaseOutcome{VmLeaseStatus::kError, {}, late(c, what)};
}

}  // namespace

SimStorageConfig parse_sim_storage(const ConfigNode& cfg) {
    cfg.allow_only(kSimStorageKeys);
    SimStorageConfig c;
    c.timeout = seconds_to_ms(cfg.positive_or("timeout_s", 2, 600));
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

StorageAnswer SimStorage::service_healthy() {
    stall_caller(cfg_.dir, node_file(ctx_, "service"));
    return answer_in_time(cfg_, "service", [c = cfg_, x = ctx_] {
        return health_answer(fault(c.dir, node_file(x, "service")));
    });
}

StorageAnswer SimStorage::volume_healthy() {
    stall_caller(cfg_.dir, node_file(ctx_, "volume"));
    return answer_in_time(cfg_, "volume", [c = cfg_, x = ctx_] {
        Fault here = fault(c.dir, node_file(x, "volume"));
        return health_answer(here.kind != Fault::kOk ? here : fault(c.dir, "volume"));
    });
}

StorageAnswer SimStorage::is_master() {
    stall_caller(cfg_.dir, node_file(ctx_, "master"));
    return answer_in_time(cfg_, "master", [c = cfg_, x = ctx_] {
        Fault here = fault(c.dir, node_file(x, "master"));
        if (here.kind != Fault::kOk) return health_answer(here);
        std::string m = trimmed(read_file(c.dir + "/master"));
        if (m.empty()) return StorageAnswer{Tri::kUnknown, "sim: no master"};
        return StorageAnswer{m == x.node ? Tri::kYes : Tri::kNo, "sim: master is " + m};
    });
}

double SimStorage::now() const {
    return sim_now(cfg_.dir);
}

VmLeaseOutcome SimStorage::lease_read() {
    return lease_in_time(cfg_, ctx_, "lease read", [](VmLease& l) {
        return VmLeaseOutcome{VmLeaseStatus::kOk, l, "sim"};
    });
}

VmLeaseOutcome SimStorage::lease_acquire(double seconds) {
    return lease_in_time(cfg_, ctx_, "lease acquire", [c = cfg_, x = ctx_, seconds](VmLease& l) {
        return take_lease(c, x, seconds, l, std::nullopt);
    });
}

VmLeaseOutcome SimStorage::lease_break(double seconds, const VmLease& held) {
    return lease_in_time(cfg_, ctx_, "lease break",
                         [c = cfg_, x = ctx_, seconds, held](VmLease& l) {
                             return take_lease(c, x, seconds, l, held);
                         });
}

VmLeaseOutcome SimStorage::lease_renew(double seconds) {
    return lease_in_time(cfg_, ctx_, "lease renew", [c = cfg_, x = ctx_, seconds](VmLease& l) {
        if (l.node != x.node || l.released)
            return VmLeaseOutcome{VmLeaseStatus::kLost, l,
                                  l.node.empty()
                                      ? "no lease"
                                      : fmt::format("held by {} (epoch {})", l.node, l.epoch)};
        l.expires = l.now + seconds;
        write_lease(c.dir, l);
        return VmLeaseOutcome{VmLeaseStatus::kOk, l, fmt::format("renewed epoch {}", l.epoch)};
    });
}

VmLeaseOutcome SimStorage::lease_release() {
    return lease_in_time(cfg_, ctx_, "lease release", [c = cfg_, x = ctx_](VmLease& l) {
        if (l.node != x.node || l.released)
            return VmLeaseOutcome{VmLeaseStatus::kLost, l, "not held here"};
        l.released = true;
        write_lease(c.dir, l);
        return VmLeaseOutcome{VmLeaseStatus::kOk, l, fmt::format("released epoch {}", l.epoch)};
    });
}

StorageAnswer SimStorage::fence(uint64_t epoch) {
    stall_caller(cfg_.dir, "fence");
    return answer_in_time(cfg_, "fence",
                          [c = cfg_, x = ctx_, epoch] { return fence_call(c, x, epoch); });
}

std::optional<std::string> SimStorage::shared_read(const std::string& key) {
    if (!valid_key(key)) throw Error("sim: bad shared key " + key);
    stall_caller(cfg_.dir, node_file(ctx_, "shared"));
    std::optional<std::optional<std::string>> r = call_with_deadline<std::optional<std::string>>(
        [c = cfg_, x = ctx_, key] {
            Fault f = fault(c.dir, node_file(x, "shared"));
            if (f.kind != Fault::kOk) throw Error(said(f));
            return read_file(c.dir + "/shared/" + key);
        },
        cfg_.timeout);
    if (!r) throw Error(late(cfg_, "shared read"));
    return *r;
}

void SimStorage::shared_write(const std::string& key, const std::string& value) {
    if (!valid_key(key)) throw Error("sim: bad shared key " + key);
    stall_caller(cfg_.dir, node_file(ctx_, "shared"));
    std::optional<bool> r = call_with_deadline<bool>(
        [c = cfg_, x = ctx_, key, value] {
            Fault f = fault(c.dir, node_file(x, "shared"));
            if (f.kind == Fault::kFail) throw Error(said(f));
            make_dirs(c.dir + "/shared");
            write_file_atomic(c.dir + "/shared/" + key, value);
            if (f.kind == Fault::kUnknown) throw Error(said(f) + ": written, answer lost");
            return true;
        },
        cfg_.timeout);
    if (!r) throw Error(late(cfg_, "shared write"));
}

bool SimStorage::shared_replace(const std::string& key, const std::optional<std::string>& expected,
                                const std::string& value) {
    if (!valid_key(key)) throw Error("sim: bad shared key " + key);
    stall_caller(cfg_.dir, node_file(ctx_, "shared"));
    std::optional<bool> r = call_with_deadline<bool>(
        [c = cfg_, x = ctx_, key, expected, value] {
            Fault f = fault(c.dir, node_file(x, "shared"));
            if (f.kind == Fault::kFail) throw Error(said(f));
            make_dirs(c.dir + "/shared");
            FileLock lock = FileLock::acquire(c.dir + "/shared/." + key + ".lock");
            if (read_file(c.dir + "/shared/" + key) != expected) return false;
            write_file_atomic(c.dir + "/shared/" + key, value);
            if (f.kind == Fault::kUnknown) throw Error(said(f) + ": written, answer lost");
            return true;
        },
        cfg_.timeout);
    if (!r) throw Error(late(cfg_, "shared replace"));
    return *r;
}

// The disk. Small text files rewritten under DIR/disk/lock; the log is appended with one
// write(2) per line, so a writer killed mid-way leaves no partial line.

namespace {

FileLock disk_lock(const std::string& disk) {
    make_dirs(disk);
    return FileLock::acquire(disk + "/lock");
}

std::set<uint64_t> read_ids(const std::string& path) {
    std::set<uint64_t> ids;
    std::istringstream in(read_file(path).value_or(""));
    for (uint64_t id = 0; in >> id;) ids.insert(id);
    return ids;
}

// "ID NODE" lines of DIR/disk/clients.
std::vector<std::pair<uint64_t, std::string>> read_clients(const std::string& disk) {
    std::vector<std::pair<uint64_t, std::string>> clients;
    std::istringstream in(read_file(disk + "/clients").value_or(""));
    uint64_t id = 0;
    for (std::string node; in >> id >> node;) clients.emplace_back(id, node);
    return clients;
}

void write_clients(const std::string& disk,
                   const std::vector<std::pair<uint64_t, std::string>>& clients) {
    std::string text;
    for (const auto& [id, node] : clients) text += fmt::format("{} {}\n", id, node);
    write_file_atomic(disk + "/clients", text);
}

}  // namespace

SimDisk::SimDisk(std::string dir) : dir_(std::move(dir) + "/disk") {}

uint64_t SimDisk::open(const std::string& node) const {
    FileLock lock = disk_lock(dir_);
    std::string next = trimmed(read_file(dir_ + "/next"));
    uint64_t id = next.empty() ? 1 : std::stoull(next);
    write_file_atomic(dir_ + "/next", fmt::format("{}\n", id + 1));
    std::vector<std::pair<uint64_t, std::string>> clients = read_clients(dir_);
    clients.emplace_back(id, node);
    write_clients(dir_, clients);
    return id;
}

void SimDisk::close(uint64_t client) const {
    FileLock lock = disk_lock(dir_);
    std::vector<std::pair<uint64_t, std::string>> clients = read_clients(dir_);
    clients.erase(std::remove_if(clients.begin(), clients.end(),
                                 [client](const auto& c) { return c.first == client; }),
                  clients.end());
    write_clients(dir_, clients);
}

bool SimDisk::write(uint64_t client, const std::string& node, uint64_t seq) const {
    FileLock lock = disk_lock(dir_);
    bool refused = read_ids(dir_ + "/blocklist").count(client) > 0;
    std::string path = dir_ + "/log";
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
    if (!fd) throw Error(fmt::format("{}: open: {}", path, errno_text(errno)));
    write_all(fd.get(), fmt::format("{} {} {} {}\n", refused ? "refused" : "ok", client, node, seq),
              path);
    return !refused;
}

std::vector<uint64_t> SimDisk::blocklist_all_but(const std::string& node) const {
    FileLock lock = disk_lock(dir_);
    std::set<uint64_t> blocked = read_ids(dir_ + "/blocklist");
    std::vector<uint64_t> cut;
    for (const auto& [id, owner] : read_clients(dir_))
        if (owner != node) cut.push_back(id), blocked.insert(id);
    std::string text;
    for (uint64_t id : blocked) text += fmt::format("{}\n", id);
    write_file_atomic(dir_ + "/blocklist", text);
    return cut;
}

}  // namespace storkit
