#include "storkit/reconcile.h"

#include <fmt/format.h>

namespace storkit {

std::string_view to_string(Action a) {
    switch (a) {
        case Action::kStart: return "start";
        case Action::kStop: return "stop";
        case Action::kNone: return "none";
    }
    return "none";
}

namespace {

// A column's accepted values, as a bit set over Tri.
using Match = unsigned;
constexpr Match kYes = 1u << static_cast<unsigned>(Tri::kYes);
constexpr Match kNo = 1u << static_cast<unsigned>(Tri::kNo);
constexpr Match kUnk = 1u << static_cast<unsigned>(Tri::kUnknown);
constexpr Match kNotYes = kNo | kUnk;  // unknown health counts as unhealthy, unknown as not master
constexpr Match kAny = kYes | kNo | kUnk;

struct Row {
    const char* rule;
    Match service, volume, master, here, elsewhere;
    Action action;
    bool failed;
    const char* reason;  // {running} / {unknown}: peers that run the VM / did not answer
};

// The published flow, first matching row wins. Columns: storage service healthy here, VM
// volume healthy, this node is master, VM runs here, VM runs on another node.
constexpr Row kTable[] = {
    // 1-2. Storage service unhealthy: the VM must not run here.
    {"service-down-stop", kNotYes, kAny, kAny, kYes, kAny, Action::kStop, false,
     "storage service here is not healthy and the VM runs here: stopping it"},
    {"service-down-blind", kNotYes, kAny, kAny, kUnk, kAny, Action::kNone, true,
     "storage service here is not healthy, and this node's libvirt did not answer: "
     "cannot make sure the VM is stopped"},
    {"service-down", kNotYes, kAny, kAny, kNo, kAny, Action::kNone, false,
     "storage service here is not healthy; the VM does not run here"},
    // 3. Volume unhealthy: do nothing.
    {"volume-down", kYes, kNotYes, kAny, kAny, kAny, Action::kNone, false,
     "the VM's volume is not healthy: doing nothing"},
    // 4-5. Master: start the VM here if it runs nowhere.
    {"master-running-here", kYes, kYes, kYes, kYes, kAny, Action::kNone, false,
     "the VM runs here, on the master"},
    {"master-blind", kYes, kYes, kYes, kUnk, kAny, Action::kNone, true,
     "this node's libvirt did not answer: cannot tell whether the VM runs here"},
    {"master-running-elsewhere", kYes, kYes, kYes, kNo, kYes, Action::kNone, false,
     "the VM runs on {running}"},
    {"master-peer-unknown", kYes, kYes, kYes, kNo, kUnk, Action::kNone, false,
     "the VM may run on {unknown} (no answer): not starting it"},
    {"master-start", kYes, kYes, kYes, kNo, kNo, Action::kStart, false,
     "the VM runs nowhere: starting it on the master"},
    // 6. Not master: the VM must not run here.
    {"slave-stop", kYes, kYes, kNotYes, kYes, kAny, Action::kStop, false,
     "this node is not the master and the VM runs here: stopping it"},
    {"slave-blind", kYes, kYes, kNotYes, kUnk, kAny, Action::kNone, true,
     "this node's libvirt did not answer: cannot make sure the VM is stopped"},
    {"slave-idle", kYes, kYes, kNotYes, kNo, kAny, Action::kNone, false,
     "not the master; the VM does not run here"},
};

bool matches(Match m, Tri v) {
    return (m & (1u << static_cast<unsigned>(v))) != 0;
}

std::string join_peers(const std::vector<PeerObservation>& peers, Tri which) {
    std::string out;
    for (const PeerObservation& p : peers)
        if (p.running == which) out += (out.empty() ? "" : ", ") + p.node;
    return out;
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
        if (matches(row.service, obs.service) && matches(row.volume, obs.volume) &&
            matches(row.master, obs.master) && matches(row.here, obs.here) &&
            matches(row.elsewhere, elsewhere)) {
            Decision d;
            d.action = row.action;
            d.rule = row.rule;
            d.failed = row.failed;
            d.reason = fmt::format(fmt::runtime(row.reason),
                                   fmt::arg("running", join_peers(obs.peers, Tri::kYes)),
                                   fmt::arg("unknown", join_peers(obs.peers, Tri::kUnknown)));
            return d;
        }
    }
    // The table covers every combination; this is unreachable by construction (tested).
    return Decision{Action::kNone, "no-rule", "no rule matched", true};
}

}  // namespace storkit
