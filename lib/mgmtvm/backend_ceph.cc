#include "mgmtvm/backend_ceph.h"

#include <fmt/format.h>
#include <rbd/librbd.h>

#include <cerrno>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/clock.h"
#include "core/deadline.h"
#include "core/error.h"
#include "mgmtvm/ceph_lease.h"

namespace storkit {

using nlohmann::json;
using std::chrono::milliseconds;

CephStorageConfig parse_ceph_storage(const ConfigNode& cfg) {
    cfg.allow_only(kCephStorageKeys);
    CephStorageConfig c;
    c.client.conf = cfg.string_or("conf", "/etc/ceph/ceph.conf");
    if (c.client.conf.empty() || c.client.conf[0] != '/')
        cfg.problem("conf", "expected an absolute path");
    c.client.client = cfg.string_or("client", "admin");
    c.client.pool = cfg.string_or("pool", "rbd");
    c.client.timeout = seconds_to_ms(cfg.positive_or("timeout_s", 3, 600));
    c.image = cfg.string("image");
    ConfigNode mons = cfg.section("monitors");
    for (const std::string& node : mons.keys()) c.monitors[node] = mons.string(node);
    c.blocklist_s = cfg.positive_or("blocklist_s", 3600, 31536000);
    return c;
}

namespace {

// Runs `fn` with the client within the call's deadline; `late` is the answer past it.
template <typename T>
T within(const std::shared_ptr<ceph::Client>& client, std::function<T(ceph::Client&)> fn, T late) {
    milliseconds timeout = client->options().timeout;
    std::optional<T> r = call_with_deadline<T>([client, fn] { return fn(*client); }, timeout);
    if (r) return *r;
    return late;
}

std::string late_text(const ceph::Client& c, const char* what) {
    return fmt::format("ceph: {}: no answer within {} s", what,
                       static_cast<double>(c.options().timeout.count()) / 1000.0);
}

// quorum_status as JSON; throws Error when the monitors do not answer.
json quorum_status(ceph::Client& c) {
    ceph::MonReply q = c.mon_command(R"({"prefix": "quorum_status", "format": "json"})");
    if (q.rc < 0)
        throw Error(fmt::format("ceph: quorum_status: {}{}", ceph::errno_text(q.rc),
                                q.status.empty() ? "" : ": " + q.status));
    try {
        return json::parse(q.out);
    } catch (const std::exception& e) {
        throw Error(fmt::format("ceph: quorum_status: unreadable answer: {}", e.what()));
    }
}

StorageAnswer unknown(const std::exception& e) {
    return {Tri::kUnknown, e.what()};
}

}  // namespace

CephStorage::CephStorage(CephStorageConfig cfg, StorageContext ctx)
    : cfg_(std::move(cfg)),
      ctx_(std::move(ctx)),
      client_(std::make_shared<ceph::Client>(cfg_.client)) {}

std::string CephStorage::monitor() const {
    auto it = cfg_.monitors.find(ctx_.node);
    return it == cfg_.monitors.end() ? ctx_.node : it->second;
}

StorageAnswer CephStorage::service_healthy() {
    std::string mon = monitor();
    return within<StorageAnswer>(
        client_,
        [mon](ceph::Client& c) -> StorageAnswer {
            try {
                json q = quorum_status(c);
                std::vector<std::string> names =
                    q.value("quorum_names", std::vector<std::string>{});
                if (names.empty()) return {Tri::kNo, "ceph: no monitor quorum"};
                bool has_mon = false;
                for (const json& m : q["monmap"].value("mons", json::array()))
                    has_mon = has_mon || m.value("name", "") == mon;
                bool in_quorum = std::find(names.begin(), names.end(), mon) != names.end();
                std::string quorum = fmt::format("{}", fmt::join(names, ","));
                if (has_mon && !in_quorum)
                    return {Tri::kNo,
                            fmt::format("ceph: monitor {} is out of the quorum ({})", mon, quorum)};
                return {Tri::kYes, fmt::format("ceph: quorum {}", quorum)};
            } catch (const std::exception& e) {
                return unknown(e);
            }
        },
        {Tri::kUnknown, late_text(*client_, "service")});
}

StorageAnswer CephStorage::volume_healthy() {
    std::string image = cfg_.image;
    return within<StorageAnswer>(
        client_,
        [image](ceph::Client& c) -> StorageAnswer {
            try {
                std::string where = c.options().pool + "/" + image;
                rbd_image_t img = nullptr;
                int r = rbd_open_read_only(c.pool(), image.c_str(), &img, nullptr);
                if (r == -ENOENT) return {Tri::kNo, fmt::format("ceph: no image {}", where)};
                if (r < 0)
                    return {Tri::kUnknown,
                            fmt::format("ceph: opening {}: {}", where, ceph::errno_text(r))};
                char block[4096];
                ssize_t n = rbd_read(img, 0, sizeof block, block);
                rbd_close(img);
                if (n < 0)
                    return {n == -ETIMEDOUT ? Tri::kUnknown : Tri::kNo,
                            fmt::format("ceph: reading {}: {}", where,
                                        ceph::errno_text(static_cast<int>(n)))};
                return {Tri::kYes, fmt::format("ceph: {} reads", where)};
            } catch (const std::exception& e) {
                return unknown(e);
            }
        },
        {Tri::kUnknown, late_text(*client_, "volume")});
}

StorageAnswer CephStorage::is_master() {
    std::string mon = monitor();
    return within<StorageAnswer>(
        client_,
        [mon](ceph::Client& c) -> StorageAnswer {
            try {
                json q = quorum_status(c);
                std::string leader = q.value("quorum_leader_name", "");
                if (leader.empty()) return {Tri::kUnknown, "ceph: no quorum leader"};
                return {leader == mon ? Tri::kYes : Tri::kNo,
                        fmt::format("ceph: quorum leader is monitor {}", leader)};
            } catch (const std::exception& e) {
                return unknown(e);
            }
        },
        {Tri::kUnknown, late_text(*client_, "master")});
}

namespace {

VmLeaseOutcome lease_within(const std::shared_ptr<ceph::Client>& client, const char* what,
                            const std::string& object, const std::string& node,
                            const std::function<VmLeaseOutcome(ceph::Lease&)>& op) {
    return within<VmLeaseOutcome>(client,
                                  [object, node, op](ceph::Client& c) {
                                      ceph::Lease lease(c, object, node);
                                      return op(lease);
                                  },
                                  {VmLeaseStatus::kError, {}, late_text(*client, what)});
}

}  // namespace

VmLeaseOutcome CephStorage::lease_read() {
    return lease_within(client_, "lease read", object(), ctx_.node,
                        [](ceph::Lease& l) { return l.read(); });
}

VmLeaseOutcome CephStorage::lease_acquire(double seconds) {
    return lease_within(client_, "lease acquire", object(), ctx_.node,
                        [seconds](ceph::Lease& l) { return l.acquire(seconds); });
}

VmLeaseOutcome CephStorage::lease_renew(double seconds) {
    return lease_within(client_, "lease renew", object(), ctx_.node,
                        [seconds](ceph::Lease& l) { return l.renew(seconds); });
}

VmLeaseOutcome CephStorage::lease_release() {
    return lease_within(client_, "lease release", object(), ctx_.node,
                        [](ceph::Lease& l) { return l.release(); });
}

VmLeaseOutcome CephStorage::lease_break(double seconds, const VmLease& held) {
    return lease_within(client_, "lease break", object(), ctx_.node,
                        [seconds, held](ceph::Lease& l) { return l.break_from(seconds, held); });
}

StorageAnswer CephStorage::volume_clients() {
    std::string image = cfg_.image;
    return within<StorageAnswer>(
        client_,
        [image](ceph::Client& c) -> StorageAnswer {
            try {
                std::vector<std::string> open;
                for (const ceph::Watcher& w : c.watchers(image))
                    open.push_back(fmt::format("client.{} at {}", w.id, w.addr));
                if (open.empty()) return {Tri::kNo, fmt::format("nobody has {} open", image)};
                return {Tri::kYes, fmt::format("{} open by {}", image, fmt::join(open, ", "))};
            } catch (const std::exception& e) {
                return unknown(e);
            }
        },
        {Tri::kUnknown, late_text(*client_, "clients")});
}

// Every client that has the image open is cut off: the copy this node is about to start is
// not running yet, and any other is one too many.
StorageAnswer CephStorage::fence(uint64_t epoch) {
    std::string image = cfg_.image;
    double expire = cfg_.blocklist_s;
    return within<StorageAnswer>(
        client_,
        [image, expire, epoch](ceph::Client& c) -> StorageAnswer {
            try {
                std::vector<std::string> cut;
                for (const ceph::Watcher& w : c.watchers(image)) {
                    json cmd = {{"prefix", "osd blocklist"},
                                {"blocklistop", "add"},
                                {"addr", w.addr},
                                {"expire", expire}};
                    ceph::MonReply r = c.mon_command(cmd.dump());
                    // The monitors refused: not fenced. No answer in time: not known.
                    if (r.rc < 0)
                        return {r.rc == -ETIMEDOUT ? Tri::kUnknown : Tri::kNo,
                                fmt::format("ceph: blocklisting client.{} at {}: {}{}", w.id,
                                            w.addr, ceph::errno_text(r.rc),
                                            r.status.empty() ? "" : ": " + r.status)};
                    cut.push_back(fmt::format("client.{} at {}", w.id, w.addr));
                }
                // Fenced only once the OSDs know: the map that carries the blocklist. An OSD
                // serves an operation only once it has the map the client sent it with, so
                // reading the image (its header and first block) after the wait makes their
                // OSDs enforce the blocklist before the new copy starts.
                int r = rados_wait_for_latest_osdmap(c.cluster());
                if (r < 0)
                    return {Tri::kUnknown,
                            fmt::format("ceph: waiting for the OSD map: {}", ceph::errno_text(r))};
                if (!cut.empty()) {
                    rbd_image_t img = nullptr;
                    r = rbd_open_read_only(c.pool(), image.c_str(), &img, nullptr);
                    char block[512];
                    ssize_t n = r < 0 ? r : rbd_read(img, 0, sizeof block, block);
                    if (img) rbd_close(img);
                    if (n < 0)
                        return {Tri::kUnknown,
                                fmt::format("ceph: reading {} after the blocklist: {}", image,
                                            ceph::errno_text(static_cast<int>(n)))};
                }
                if (cut.empty())
                    return {Tri::kYes,
                            fmt::format("no client had {} open (epoch {})", image, epoch)};
                return {Tri::kYes,
                        fmt::format("blocklisted {} (epoch {})", fmt::join(cut, ", "), epoch)};
            } catch (const std::exception& e) {
                return unknown(e);
            }
        },
        {Tri::kUnknown, late_text(*client_, "fence")});
}

namespace {

// The omap value at `key` of `object`, nullopt when there is none.
std::optional<std::string> omap_get(ceph::Client& c, const std::string& object,
                                    const std::string& key) {
    ceph::ReadOp r;
    const char* keys[] = {key.c_str()};
    rados_omap_iter_t iter = nullptr;
    int prval = 0;
    rados_read_op_omap_get_vals_by_keys(r.op, keys, 1, &iter, &prval);
    int rc = rados_read_op_operate(r.op, c.pool(), object.c_str(), 0);
    if (rc == -ENOENT) {
        if (iter) rados_omap_get_end(iter);
        return std::nullopt;
    }
    if (rc < 0 || prval < 0) {
        if (iter) rados_omap_get_end(iter);
        throw Error(fmt::format("ceph: reading {} from {}: {}", key, object,
                                ceph::errno_text(rc < 0 ? rc : prval)));
    }
    std::optional<std::string> value;
    char* k = nullptr;
    char* v = nullptr;
    size_t len = 0;
    while (rados_omap_get_next(iter, &k, &v, &len) == 0 && k)
        if (key == k) value = std::string(v, len);
    rados_omap_get_end(iter);
    return value;
}

}  // namespace

std::optional<std::string> CephStorage::shared_read(const std::string& key) {
    std::string obj = object();
    using R = std::optional<std::optional<std::string>>;
    std::optional<R> r = call_with_deadline<R>(
        [client = client_, obj, key]() -> R { return omap_get(*client, obj, key); },
        cfg_.client.timeout);
    if (!r) throw Error(late_text(*client_, "shared read"));
    return **r;
}

namespace {

// Sets omap entry `key` of `object` to `value`; with `expected`, only if the entry still holds
// it (a missing entry compares as empty: no record is ever written empty). Returns librados'
// result: -ECANCELED when the entry differs.
int omap_put(ceph::Client& c, const std::string& object, const std::string& key,
             const std::string& value, const std::optional<std::optional<std::string>>& expected) {
    ceph::WriteOp w;
    int cmp = 0;
    std::string want;
    if (expected) {
        // The object may not be there yet (no lease, no record): made empty first, in the
        // same operation.
        rados_write_op_create(w.op, LIBRADOS_CREATE_IDEMPOTENT, nullptr);
        want = expected->value_or("");
        rados_write_op_omap_cmp(w.op, key.c_str(), LIBRADOS_CMPXATTR_OP_EQ, want.data(),
                                want.size(), &cmp);
    }
    const char* keys[] = {key.c_str()};
    const char* vals[] = {value.data()};
    size_t lens[] = {value.size()};
    rados_write_op_omap_set(w.op, keys, vals, lens, 1);
    return rados_write_op_operate(w.op, c.pool(), object.c_str(), nullptr, 0);
}

}  // namespace

void CephStorage::shared_write(const std::string& key, const std::string& value) {
    std::string obj = object();
    std::optional<int> r = call_with_deadline<int>(
        [client = client_, obj, key, value] {
            return omap_put(*client, obj, key, value, std::nullopt);
        },
        cfg_.client.timeout);
    if (!r) throw Error(late_text(*client_, "shared write"));
    if (*r < 0)
        throw Error(fmt::format("ceph: writing {} to {}: {}", key, obj, ceph::errno_text(*r)));
}

bool CephStorage::shared_replace(const std::string& key, const std::optional<std::string>& expected,
                                 const std::string& value) {
    std::string obj = object();
    std::optional<int> r =
        call_with_deadline<int>([client = client_, obj, key, expected,
                                 value] { return omap_put(*client, obj, key, value, expected); },
                                cfg_.client.timeout);
    if (!r) throw Error(late_text(*client_, "shared replace"));
    if (*r == -ECANCELED) return false;
    if (*r < 0)
        throw Error(fmt::format("ceph: replacing {} in {}: {}", key, obj, ceph::errno_text(*r)));
    return true;
}

}  // namespace storkit
