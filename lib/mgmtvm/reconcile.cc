#include "mgmtvm/reconcile.h"

#include <fmt/format.h>

namespace storkit {

std::string_view to_string(Action a) {
    switch (a) {
        case Action::kStart: return "start";
        case Action::kStop: return "stop";
        case Action::kResume: return "resume";
        case Action::kNone: return "none";
    }
    return "none";
}

std::string_view to_string(LeaseView l) {
    switch (l) {
        case LeaseView::kOff: return "off";
        case LeaseView::kFree: return "free";
        case LeaseView::kMine: return "mine";
        case LeaseView::kOther: return "other";
        case LeaseView::kUnknown: return "unknown";
        case LeaseView::kLapsed: return "lapsed";
    }
    return "unknown";
}

std::string_view to_string(Maint m) {
    switch (m) {
        case Maint::kNone: return "none";
        case Maint::kGlobal: return "global";
        case Maint::kNode: return "node";
        case Maint::kUnknown: return "unknown";
    }
    return "none";
}

namespace {

// A column's accepted values, as a bit set over the enum's values.
using Match = unsigned;
template <typename E>
constexpr Match bit(E v) {
    return 1u << static_cast<unsigned>(v);
}
constexpr Match kAny = ~0u;

// Tri columns
constexpr Match kYes = bit(Tri::kYes);
constexpr Match kNo = bit(Tri::kNo);
constexpr Match kUnk = bit(Tri::kUnknown);
constexpr Match kNotYes = kNo | kUnk;  // unknown health counts as unhealthy, unknown as not master

// Lease column
constexpr Match kLOff = bit(LeaseView::kOff);
constexpr Match kLFree = bit(LeaseView::kFree);
constexpr Match kLMine = bit(LeaseView::kMine);
constexpr Match kLOther = bit(LeaseView::kOther);
constexpr Match kLUnk = bit(LeaseView::kUnknown);
constexpr Match kLLapsed = bit(LeaseView::kLapsed);
constexpr Match kLOurs = kLFree | kLMine | kLLapsed;  // the lease can be taken (or is held) here

// Maintenance column
constexpr Match kMNone = bit(Maint::kNone);
constexpr Match kMGlobal = bit(Maint::kGlobal);
constexpr Match kMNode = bit(Maint::kNode);
constexpr Match kMUnk = bit(Maint::kUnknown);

// Flag columns (bool)
constexpr Match kF = bit(false);
constexpr Match kT = bit(true);

struct Row {
    const char* rule;
    Match maint, service, volume, master, here, elsewhere, lease, overdue, allow_unknown, sticky;
    Action action;
    bool failed;
    const char* reason;  // {running} {unknown}: peers running / silent; {holder}: lease holder
};

// First matching row wins. Columns: maintenance; storage service healthy here; VM volume
// healthy; this node is master; VM runs here; VM runs on another node; the lease; renewals
// overdue; allow_start_with_unknown_peers; placement sticky.
//
// The published flow is the rows without a lease condition (lease kAny or kLOff); the rows
// marked "+" are what storkit adds to it.
// clang-format off
constexpr Row kTable[] = {
    // + Global maintenance: every node observes and reports, nobody changes anything.
    {"maintenance-global", kMGlobal, kAny, kAny, kAny, kAny, kAny, kAny, kAny, kAny, kAny,
     Action::kNone, false, "global maintenance: observing only"},
    // + The maintenance record could not be read: it may say "hands off". Observe only, and
    //   fail the tick so that the operator hears of it.
    {"maintenance-unknown", kMUnk, kAny, kAny, kAny, kAny, kAny, kAny, kAny, kAny, kAny,
     Action::kNone, true, "the maintenance record could not be read: observing only"},
    // Published step 2: storage service unhealthy -> the VM must not run here.
    {"service-down-stop", kAny, kNotYes, kAny, kAny, kYes, kAny, kAny, kAny, kAny, kAny,
     Action::kStop, false, "storage service here is not healthy and the VM runs here: stopping it"},
    {"service-down-blind", kAny, kNotYes, kAny, kAny, kUnk, kAny, kAny, kAny, kAny, kAny,
     Action::kNone, true, "storage service here is not healthy, and this node's libvirt did not "
     "answer: cannot make sure the VM is stopped"},
    {"service-down", kAny, kNotYes, kAny, kAny, kNo, kAny, kAny, kAny, kAny, kAny,
     Action::kNone, false, "storage service here is not healthy; the VM does not run here"},
    // + The lease went to another node (it may fence this copy and start its own): stop now.
    {"lease-lost-stop", kAny, kYes, kAny, kAny, kYes, kAny, kLOther, kAny, kAny, kAny,
     Action::kStop, false, "the lease is held by {holder}: stopping the VM here"},
    // + The lease lapsed, but {holder} held it meanwhile and may have fenced this copy's disk:
    //   stop it, so that it starts afresh (the master fences {holder}'s clients first).
    {"lease-lapsed-stop", kAny, kYes, kAny, kAny, kYes, kAny, kLLapsed, kAny, kAny, kAny,
     Action::kStop, false, "{holder} held the lease while the VM ran here and may have fenced "
     "its disk: stopping it so that it starts afresh"},
    // + Renewals failed for lease.ticks-1 ticks: stop before the lease can expire.
    {"lease-overdue-stop", kAny, kYes, kAny, kAny, kYes, kAny, kAny, kT, kAny, kAny,
     Action::kStop, false, "could not renew the lease in time: stopping the VM before it expires"},
    // Published step 3: volume unhealthy -> do nothing.
    {"volume-down", kAny, kYes, kNotYes, kAny, kAny, kAny, kAny, kAny, kAny, kAny,
     Action::kNone, false, "the VM's volume is not healthy: doing nothing"},
    // + Node maintenance: hand the VM off cleanly, never start it here.
    {"maintenance-handoff", kMNode, kYes, kYes, kAny, kYes, kAny, kAny, kAny, kAny, kAny,
     Action::kStop, false, "node maintenance: handing the VM off (stop, release the lease)"},
    {"maintenance-node", kMNode, kYes, kYes, kAny, kNotYes, kAny, kAny, kAny, kAny, kAny,
     Action::kNone, false, "node maintenance: this node does not run the VM"},
    // Published step 5: the master starts the VM if it runs nowhere.
    {"master-running-here", kMNone, kYes, kYes, kYes, kYes, kAny, kAny, kAny, kAny, kAny,
     Action::kNone, false, "the VM runs here, on the master"},
    {"master-blind", kMNone, kYes, kYes, kYes, kUnk, kAny, kAny, kAny, kAny, kAny,
     Action::kNone, true, "this node's libvirt did not answer: cannot tell whether the VM runs here"},
    {"master-running-elsewhere", kMNone, kYes, kYes, kYes, kNo, kYes, kAny, kAny, kAny, kAny,
     Action::kNone, false, "the VM runs on {running}"},
    {"master-lease-unknown", kMNone, kYes, kYes, kYes, kNo, kNotYes, kLUnk, kAny, kAny, kAny,
     Action::kNone, false, "the storage did not answer about the lease: not starting the VM"},
    {"master-lease-held", kMNone, kYes, kYes, kYes, kNo, kNotYes, kLOther, kAny, kAny, kAny,
     Action::kNone, false, "the lease is held by {holder}: waiting for it to be renewed or expire"},
    // + A silent peer does not block the start once the lease is ours: its holder stops the VM
    //   before the lease expires, and the start fences every other client first.
    {"master-takeover", kMNone, kYes, kYes, kYes, kNo, kUnk, kLOurs, kAny, kAny, kAny,
     Action::kStart, false, "{unknown} did not answer, but the lease is free or expired: starting the VM here"},
    {"master-peer-unknown", kMNone, kYes, kYes, kYes, kNo, kUnk, kLOff, kAny, kF, kAny,
     Action::kNone, false, "the VM may run on {unknown} (no answer): not starting it"},
    {"master-start-unknown", kMNone, kYes, kYes, kYes, kNo, kUnk, kLOff, kAny, kT, kAny,
     Action::kStart, false, "the VM may run on {unknown} (no answer), but "
     "allow_start_with_unknown_peers is set: starting it"},
    {"master-start", kMNone, kYes, kYes, kYes, kNo, kNo, kLOff | kLOurs, kAny, kAny, kAny,
     Action::kStart, false, "the VM runs nowhere: starting it on the master"},
    // + The storage did not say who the master is (one slow answer, a monitor election) while
    //   the VM runs here under this node's valid lease: no other node can start it, so keep it.
    {"master-unknown-keep", kMNone, kYes, kYes, kUnk, kYes, kAny, kLMine, kF, kAny, kAny,
     Action::kNone, false, "the storage did not say who the master is; the VM runs here under "
     "this node's lease: keeping it"},
    // + Sticky placement: the VM stays where it runs while that node is healthy and holds the
    //   lease; the master starts it only where it runs nowhere. Saves a cold restart on every
    //   master change.
    {"sticky-keep", kMNone, kYes, kYes, kNo, kYes, kAny, kLMine, kF, kAny, kT,
     Action::kNone, false, "not the master, but the VM runs here under this node's lease and "
     "placement is sticky: keeping it"},
    // Published step 6: not master -> the VM must not run here.
    {"slave-stop", kMNone, kYes, kYes, kNotYes, kYes, kAny, kAny, kAny, kAny, kAny,
     Action::kStop, false, "this node is not the master and the VM runs here: stopping it"},
    {"slave-blind", kMNone, kYes, kYes, kNotYes, kUnk, kAny, kAny, kAny, kAny, kAny,
     Action::kNone, true, "this node's libvirt did not answer: cannot make sure the VM is stopped"},
    {"slave-idle", kMNone, kYes, kYes, kNotYes, kNo, kAny, kAny, kAny, kAny, kAny,
     Action::kNone, false, "not the master; the VM does not run here"},
};
// clang-format on

template <typename E>
bool matches(Match m, E v) {
    return (m & bit(v)) != 0;
}

std::string join_peers(const std::vector<PeerObservation>& peers, Tri which) {
    std::vector<std::string> names;
    for (const PeerObservation& p : peers)
        if (p.running == which) names.push_back(p.node);
    return fmt::format("{}", fmt::join(names, ", "));
}

// The rows under which the VM runs on here (and storage is healthy).
bool keeps_vm_here(std::string_view rule) {
    return rule == "master-running-here" || rule == "master-unknown-keep" || rule == "sticky-keep";
}

}  // namespace

Tri running_elsewhere(const std::vector<PeerObservation>& peers) {
    bool unknown = false;
    for (const PeerObservation& p : peers) {
        if (p.running == Tri::kYes) return Tri::kYes;
        if (p.running == Tri::kUnknown) unknown = true;
    }
    return unknown ? Tri::kUnknown : Tri::kNo;
}

Decision decide(const Observations& obs) {
    Tri elsewhere = running_elsewhere(obs.peers);
    for (const Row& row : kTable) {
        if (matches(row.maint, obs.maint) && matches(row.service, obs.service) &&
            matches(row.volume, obs.volume) && matches(row.master, obs.master) &&
            matches(row.here, obs.here) && matches(row.elsewhere, elsewhere) &&
            matches(row.lease, obs.lease) && matches(row.overdue, obs.renew_overdue) &&
            matches(row.allow_unknown, obs.allow_unknown_peers) &&
            matches(row.sticky, obs.sticky)) {
            Decision d;
            d.action = row.action;
            d.rule = row.rule;
            d.failed = row.failed;
            d.reason = fmt::format(fmt::runtime(row.reason),
                                   fmt::arg("running", join_peers(obs.peers, Tri::kYes)),
                                   fmt::arg("unknown", join_peers(obs.peers, Tri::kUnknown)),
                                   fmt::arg("holder", obs.lease_holder));
            // + A VM that stays here but was paused by an I/O error (error_policy 'stop': a
            //   storage hiccup) runs again: every keeping row needs healthy storage. A VM
            //   paused for any other reason (an operator) is left paused, and so is one whose
            //   lease this tick could not confirm.
            bool lease_ok = obs.lease == LeaseView::kMine || obs.lease == LeaseView::kOff;
            if (obs.paused_io && lease_ok && keeps_vm_here(d.rule)) {
                d.action = Action::kResume;
                d.reason = fmt::format(
                    "{}; it was paused by an I/O error and its storage is "
                    "healthy again: resuming it",
                    d.reason);
                d.rule = "paused-io-resume";
            }
            return d;
        }
    }
    // The table covers every combination; this is unreachable by construction (tested).
    return Decision{Action::kNone, "no-rule", "no rule matched", true};
}

}  // namespace storkit
