#include "mgmtvm/tick_lease.h"

#include <fmt/format.h>

#include "core/error.h"

namespace storkit {

namespace {

LeaseView view_of(const VmLeaseOutcome& l, const std::string& node) {
    if (l.status == VmLeaseStatus::kError) return LeaseView::kUnknown;
    if (l.info.live_for(node)) return LeaseView::kMine;
    if (l.info.live()) return LeaseView::kOther;
    return LeaseView::kFree;
}

// After this node acquired `got` over `previous` (the lease as read just before): records the
// new epoch as fenced when nobody can hold the volume under an older one: the lease was
// released, or was this node's own under an epoch it had fenced. Only when the acquire followed
// the read directly: otherwise another node held an epoch in between. A lease with no record
// is not clean: a store that lost its record cannot tell "never held" from "held until just
// now", so the first start under it fences (cheap when nobody has the volume open).
void note_clean_handover(const VmLease& previous, const VmLease& got, const std::string& node,
                         NodeState& st) {
    bool own_fenced = previous.node == node && st.fenced(previous.epoch);
    bool clean = previous.released || own_fenced;
    if (clean && got.epoch == previous.epoch + 1) st.fenced_epoch = got.epoch;
}

// After a failed renewal: must the VM here stop now? Not while the lease this node last renewed
// still holds: nobody can take it before it runs out, and a taker fences this copy first; so
// a lease store that stops answering for a tick or two stops nothing. Without fencing the VM
// must be gone before the lease runs out: it stops on the last tick before. When the expiry is
// not known (state lost), after ticks-1 failed renewals.
bool lease_running_out(const MgmtvmConfig& cfg, Storage& storage, const NodeState& st,
                       TickResult& r) {
    if (st.lease_expires <= 0) return st.renew_failures >= cfg.lease_ticks - 1;
    double margin = cfg.fencing_none || !storage.supports_fence() ? cfg.lease_tick_s : 0;
    double left = st.lease_expires - storage.now();
    if (left > margin)
        r.steps.push_back(fmt::format("lease: {:.0f} s left on the last renewal", left));
    return left <= margin;
}

}  // namespace

// The node that runs the VM (or may: its libvirt is silent) keeps the lease alive; it adopts a
// free lease, e.g. after lease support was switched on under a running VM.
void keep_lease(const MgmtvmConfig& cfg, Storage& storage, bool dry_run, NodeState& st,
                TickResult& r) {
    bool may_run_here = r.obs.here != Tri::kNo && r.obs.service == Tri::kYes;
    // A libvirt that has not answered for a lease's worth of ticks cannot stop its VM: let the
    // lease run out, so that the master takes over behind a fence, instead of renewing forever.
    bool hung = r.obs.here == Tri::kUnknown && st.local_silent >= cfg.lease_ticks;
    if (hung && may_run_here && !dry_run)
        r.steps.push_back(
            fmt::format("lease: not renewed: this node's libvirt has not answered for {} ticks",
                        st.local_silent));
    may_run_here = may_run_here && !hung;
    bool lapsed = false;
    if (!may_run_here || dry_run) {
        r.lease = storage.lease_read();
        if (r.obs.here == Tri::kNo) st.renew_failures = 0;
    } else {
        r.lease = storage.lease_renew(cfg.lease_seconds());
        // Adopt a free lease only for a VM known to run here: a node whose libvirt is silent
        // must not take the lease from a master that could start the VM. Nor when another
        // node held it last: that node took over while this copy ran and may have fenced it.
        bool free = r.lease.status == VmLeaseStatus::kLost && !r.lease.info.live();
        lapsed = free && !r.lease.info.node.empty() && r.lease.info.node != cfg.node;
        if (free && !lapsed && r.obs.here == Tri::kYes) {
            VmLease previous = r.lease.info;
            r.lease = storage.lease_acquire(cfg.lease_seconds());
            if (r.lease.status == VmLeaseStatus::kOk)
                note_clean_handover(previous, r.lease.info, cfg.node, st);
        }
        if (lapsed && r.obs.here == Tri::kYes) {
            r.steps.push_back(fmt::format("lease: {} held it (epoch {}) while the VM ran here",
                                          r.lease.info.node, r.lease.info.epoch));
        } else if (r.lease.status == VmLeaseStatus::kOk) {
            st.renew_failures = 0;
            st.lease_expires = r.lease.info.expires;
            r.steps.push_back("lease: " + r.lease.detail);
        } else if (r.lease.status == VmLeaseStatus::kLost && r.obs.here != Tri::kYes) {
            // Not ours, and no VM known here to protect: nothing to renew.
        } else {
            st.renew_failures += 1;
            r.steps.push_back(fmt::format("lease not renewed ({} in a row): {}", st.renew_failures,
                                          r.lease.detail));
        }
    }
    r.obs.lease =
        lapsed && r.obs.here == Tri::kYes ? LeaseView::kLapsed : view_of(r.lease, cfg.node);
    r.obs.lease_holder = r.lease.info.node;
    r.obs.renew_overdue =
        r.obs.here == Tri::kYes && st.renew_failures > 0 && lease_running_out(cfg, storage, st, r);
}

// A lease held by a node an operator confirmed down (under the epoch it held then) may be taken
// now, behind a fence, instead of after it expires.
void take_confirmed_down(const Maintenance& record, TickResult& r) {
    if (r.obs.lease != LeaseView::kOther) return;
    auto it = record.down.find(r.lease.info.node);
    if (it == record.down.end() || it->second.epoch != r.lease.info.epoch) return;
    r.break_from = r.lease.info;
    r.obs.lease = LeaseView::kFree;
    r.steps.push_back(fmt::format(
        "lease: held by {} (epoch {}), confirmed down by {}: it may be taken behind a fence",
        r.lease.info.node, r.lease.info.epoch,
        it->second.by.empty() ? "an operator" : it->second.by));
}

// Before a start: own the lease, and unless this node knows every other client of the VM's
// volume is cut off under its epoch, fence them all. What must be fenced is never only in
// memory: a start under an epoch this node has not recorded as fenced fences first, so a tick
// killed between the acquire and the fencing fences on the next one.
// The start runs under a fresh lease: renewed (or acquired) now, with at least ticks-1 ticks
// left, so that the holder's next renewals have their usual margin.
// Returns false (with the reason in r) when the VM must not be started.
bool prepare_start(const MgmtvmConfig& cfg, Storage& storage, NodeState& st, TickResult& r) {
    if (!storage.supports_lease()) return true;
    bool mine = r.obs.lease == LeaseView::kMine;
    VmLease previous = r.lease.info;
    VmLeaseOutcome got = mine           ? storage.lease_renew(cfg.lease_seconds())
                         : r.break_from ? storage.lease_break(cfg.lease_seconds(), *r.break_from)
                                        : storage.lease_acquire(cfg.lease_seconds());
    double left_s = got.info.expires - got.info.now;
    double need_s = (cfg.lease_ticks - 1) * cfg.lease_tick_s;
    if (got.status == VmLeaseStatus::kOk && left_s < need_s)
        got = {VmLeaseStatus::kError, got.info,
               fmt::format("{} s left on it, {} s needed", left_s, need_s)};
    if (got.status != VmLeaseStatus::kOk) {
        const char* what = mine ? "renewed" : "acquired";
        r.steps.push_back(fmt::format("lease not {}: {}", what, got.detail));
        r.failed = true;
        r.msg = fmt::format("{}: not starting: lease not {}: {}", cfg.node, what, got.detail);
        return false;
    }
    r.lease = got;
    st.lease_expires = got.info.expires;
    r.steps.push_back("lease: " + got.detail);
    if (!previous.unreadable.empty())
        r.steps.push_back(fmt::format("lease: replaced a record that could not be read ({})",
                                      clipped(previous.unreadable)));
    // Taken over no record (none, or one that could not be read): the store counts epochs from
    // 1 again, so an epoch this node fenced before proves nothing now.
    if (!mine && previous.node.empty()) st.fenced_epoch = 0;
    if (!mine) note_clean_handover(previous, got.info, cfg.node, st);
    uint64_t epoch = r.lease.info.epoch;
    if (st.fenced(epoch)) return true;
    if (!storage.supports_fence()) {
        // Only with lease.fencing "none" (the config check refuses a lease without fencing).
        r.steps.push_back(
            "lease.fencing is none: trusting the previous holder to have stopped "
            "before its lease expired");
        st.fenced_epoch = epoch;
        return true;
    }
    StorageAnswer f = storage.fence(epoch);
    if (f.value != Tri::kYes) {
        r.failed = true;
        r.msg = fmt::format(
            "{}: not starting: fencing the other clients of the VM's volume "
            "(epoch {}) failed: {}",
            cfg.node, epoch, f.detail);
        return false;
    }
    r.steps.push_back("fenced: " + f.detail);
    st.fenced_epoch = epoch;
    return true;
}

}  // namespace storkit
