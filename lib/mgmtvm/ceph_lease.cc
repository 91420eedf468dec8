#include "mgmtvm/ceph_lease.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <optional>
#include <vector>

#include "core/clock.h"
#include "core/error.h"

namespace storkit::ceph {

namespace {

constexpr const char* kXattr = "storkit.lease";
constexpr const char* kLockName = "storkit.lease";
constexpr uint8_t kLockShared = 2;    // cls_lock's LOCK_SHARED
constexpr uint8_t kLockMayRenew = 1;  // cls_lock's LOCK_FLAG_MAY_RENEW

// The argument of the "lock" class's "lock" method (cls_lock_lock_op), in Ceph's encoding: a
// versioned struct (u8 version, u8 compat, u32 length) of name, u8 type, cookie, tag,
// description, the duration (u32 seconds, u32 nanoseconds) and u8 flags; little-endian,
// strings as u32 length + bytes. librados has no call that puts a lock into a compound write
// operation, only rados_write_op_exec with the method's argument.
class LockOp {
  public:
    LockOp(const std::string& cookie, const std::string& tag, double seconds)
        : bytes_{1, 1, 0, 0, 0, 0} {  // version 1, compat 1, length filled in below
        str(kLockName);
        bytes_.push_back(static_cast<char>(kLockShared));
        str(cookie);
        str(tag);
        str("storkit management VM lease");
        double whole = std::floor(seconds);
        u32(static_cast<uint32_t>(whole));
        u32(static_cast<uint32_t>((seconds - whole) * 1e9));
        bytes_.push_back(static_cast<char>(kLockMayRenew));
        uint32_t len = static_cast<uint32_t>(bytes_.size() - 6);
        for (int i = 0; i < 4; ++i) bytes_[2 + i] = static_cast<char>(len >> (8 * i));
    }
    const std::string& bytes() const { return bytes_; }

  private:
    void u32(uint32_t v) {
        for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<char>(v >> (8 * i)));
    }
    void str(const std::string& s) {
        u32(static_cast<uint32_t>(s.size()));
        bytes_ += s;
    }
    std::string bytes_;
};

}  // namespace

struct Lease::Record {
    bool object = false;              // the object exists
    std::optional<std::string> text;  // the record's bytes, when there is one
    VmLease lease;
};

Lease::Lease(Client& client, std::string object, std::string node)
    : client_(client), object_(std::move(object)), node_(std::move(node)) {}

Lease::Record Lease::load() {
    Record rec;
    std::vector<char> buf(4096);
    int r = rados_getxattr(client_.pool(), object_.c_str(), kXattr, buf.data(), buf.size());
    rec.lease.now = now_seconds();
    if (r == -ENOENT) return rec;
    rec.object = true;
    if (r == -ENODATA) return rec;
    if (r < 0)
        throw Error(fmt::format("ceph: reading the lease {}/{}: {}", client_.options().pool,
                                object_, errno_text(r)));
    rec.text = std::string(buf.data(), static_cast<size_t>(r));
    try {
        double now = rec.lease.now;
        rec.lease = VmLease::from_json(nlohmann::json::parse(*rec.text));
        rec.lease.now = now;
    } catch (const std::exception& e) {
        // A record that cannot be read is replaced by the next acquire (its compare still
        // guards against a race); until then nobody holds a lease known to be live.
        rec.lease = VmLease{};
        rec.lease.now = now_seconds();
        rec.lease.unreadable = e.what();
    }
    return rec;
}

VmLeaseOutcome Lease::read() {
    try {
        Record rec = load();
        return {VmLeaseStatus::kOk, rec.lease, "ceph"};
    } catch (const Error& e) {
        return {VmLeaseStatus::kError, {}, e.what()};
    }
}

void Lease::break_lockers(const std::string& node) {
    std::vector<char> tag(256), clients(4096), cookies(4096), addrs(4096);
    size_t tl = tag.size(), cl = clients.size(), kl = cookies.size(), al = addrs.size();
    int exclusive = 0;
    auto list = [&] {
        return rados_list_lockers(client_.pool(), object_.c_str(), kLockName, &exclusive,
                                  tag.data(), &tl, clients.data(), &cl, cookies.data(), &kl,
                                  addrs.data(), &al);
    };
    ssize_t n = list();
    if (n == -ERANGE) {  // librados has set the sizes it needs
        tag.resize(tl), clients.resize(cl), cookies.resize(kl), addrs.resize(al);
        n = list();
    }
    if (n < 0 && n != -ENOENT)
        throw Error(fmt::format("ceph: listing the lease's lockers: {}", errno_text(int(n))));
    const char* c = clients.data();
    const char* k = cookies.data();
    std::string cookie = "storkit." + node;
    for (ssize_t i = 0; i < n; ++i) {
        int r =
            cookie == k ? rados_break_lock(client_.pool(), object_.c_str(), kLockName, c, k) : 0;
        if (r < 0 && r != -ENOENT)
            throw Error(fmt::format("ceph: breaking the lease lock of {}: {}", c, errno_text(r)));
        c += std::strlen(c) + 1;
        k += std::strlen(k) + 1;
    }
}

// One write: the record as read still there (or no record at all), this node's lock for
// `seconds`, and the new record with the next epoch.
VmLeaseOutcome Lease::take(double seconds, const Record& before, const std::string& displaced) {
    if (!displaced.empty()) break_lockers(displaced);
    VmLease next;
    next.node = node_;
    next.epoch = before.lease.epoch + 1;
    next.now = now_seconds();
    next.expires = next.now + seconds;
    std::string text = next.to_json().dump();
    LockOp lock("storkit." + node_, node_, seconds);
    WriteOp w;
    if (!before.object)
        rados_write_op_create(w.op, LIBRADOS_CREATE_EXCLUSIVE, nullptr);
    else
        rados_write_op_cmpxattr(w.op, kXattr, LIBRADOS_CMPXATTR_OP_EQ,
                                before.text ? before.text->data() : "",
                                before.text ? before.text->size() : 0);
    int lock_rc = 0;
    rados_write_op_exec(w.op, "lock", "lock", lock.bytes().data(), lock.bytes().size(), &lock_rc);
    rados_write_op_setxattr(w.op, kXattr, text.data(), text.size());
    int r = rados_write_op_operate(w.op, client_.pool(), object_.c_str(), nullptr, 0);
    if (r == 0) return {VmLeaseStatus::kOk, next, fmt::format("acquired epoch {}", next.epoch)};
    if (r == -EBUSY || r == -ECANCELED || r == -EEXIST) {
        Record now = load();
        std::string why = r == -EBUSY ? "its lock is live on the OSD" : "it changed meanwhile";
        return {VmLeaseStatus::kBusy, now.lease,
                now.lease.node.empty() ? fmt::format("not acquired: {}", why)
                                       : fmt::format("held by {} (epoch {}): {}", now.lease.node,
                                                     now.lease.epoch, why)};
    }
    return {VmLeaseStatus::kError, before.lease,
            fmt::format("ceph: acquiring the lease: {}", errno_text(r))};
}

VmLeaseOutcome Lease::acquire(double seconds) {
    try {
        Record rec = load();
        if (rec.lease.live() && rec.lease.node != node_)
            return {VmLeaseStatus::kBusy, rec.lease,
                    fmt::format("held by {} (epoch {})", rec.lease.node, rec.lease.epoch)};
        // A released lease's lock may still be live on the OSD: it was given up, so clear it.
        return take(seconds, rec, rec.lease.released ? rec.lease.node : "");
    } catch (const Error& e) {
        return {VmLeaseStatus::kError, {}, e.what()};
    }
}

VmLeaseOutcome Lease::break_from(double seconds, const VmLease& held) {
    try {
        Record rec = load();
        if (rec.lease.node != held.node || rec.lease.epoch != held.epoch)
            return {VmLeaseStatus::kBusy, rec.lease,
                    fmt::format("moved on from {} (epoch {}) to {} (epoch {})", held.node,
                                held.epoch, rec.lease.node, rec.lease.epoch)};
        VmLeaseOutcome got = take(seconds, rec, held.node);
        if (got.status == VmLeaseStatus::kOk)
            got.detail =
                fmt::format("acquired epoch {} from {}, confirmed down", got.info.epoch, held.node);
        return got;
    } catch (const Error& e) {
        return {VmLeaseStatus::kError, {}, e.what()};
    }
}

VmLeaseOutcome Lease::renew(double seconds) {
    try {
        Record rec = load();
        if (rec.lease.node != node_ || rec.lease.released)
            return {VmLeaseStatus::kLost, rec.lease,
                    rec.lease.node.empty()
                        ? "no lease"
                        : fmt::format("held by {} (epoch {})", rec.lease.node, rec.lease.epoch)};
        VmLease next = rec.lease;
        next.now = now_seconds();
        next.expires = next.now + seconds;
        std::string text = next.to_json().dump();
        LockOp lock("storkit." + node_, node_, seconds);
        WriteOp w;
        rados_write_op_cmpxattr(w.op, kXattr, LIBRADOS_CMPXATTR_OP_EQ, rec.text->data(),
                                rec.text->size());
        int lock_rc = 0;
        rados_write_op_exec(w.op, "lock", "lock", lock.bytes().data(), lock.bytes().size(),
                            &lock_rc);
        rados_write_op_setxattr(w.op, kXattr, text.data(), text.size());
        int r = rados_write_op_operate(w.op, client_.pool(), object_.c_str(), nullptr, 0);
        if (r == 0) return {VmLeaseStatus::kOk, next, fmt::format("renewed epoch {}", next.epoch)};
        if (r == -ECANCELED || r == -EBUSY) {
            Record now = load();
            return {VmLeaseStatus::kLost, now.lease,
                    fmt::format("held by {} (epoch {})", now.lease.node, now.lease.epoch)};
        }
        return {VmLeaseStatus::kError, rec.lease,
                fmt::format("ceph: renewing the lease: {}", errno_text(r))};
    } catch (const Error& e) {
        return {VmLeaseStatus::kError, {}, e.what()};
    }
}

VmLeaseOutcome Lease::release() {
    try {
        Record rec = load();
        if (rec.lease.node != node_ || rec.lease.released)
            return {VmLeaseStatus::kLost, rec.lease, "not held here"};
        VmLease next = rec.lease;
        next.released = true;
        next.now = now_seconds();
        next.expires = next.now;
        std::string text = next.to_json().dump();
        WriteOp w;
        rados_write_op_cmpxattr(w.op, kXattr, LIBRADOS_CMPXATTR_OP_EQ, rec.text->data(),
                                rec.text->size());
        rados_write_op_setxattr(w.op, kXattr, text.data(), text.size());
        int r = rados_write_op_operate(w.op, client_.pool(), object_.c_str(), nullptr, 0);
        if (r == -ECANCELED) return {VmLeaseStatus::kLost, load().lease, "changed meanwhile"};
        if (r < 0)
            return {VmLeaseStatus::kError, rec.lease,
                    fmt::format("ceph: releasing the lease: {}", errno_text(r))};
        // The record says released; the lock goes too, so the next holder need not wait for
        // it (if this fails, the next acquire clears it).
        try {
            break_lockers(node_);
        } catch (const Error&) {
        }
        return {VmLeaseStatus::kOk, next, fmt::format("released epoch {}", next.epoch)};
    } catch (const Error& e) {
        return {VmLeaseStatus::kError, {}, e.what()};
    }
}

}  // namespace storkit::ceph
