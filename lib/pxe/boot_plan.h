// The order in which `pxe-provision boot` powers the nodes on, as a pure function of what is
// known: the nodes, what each has been through in this boot run, the leases and the time.
//
// Nodes go in the given order. Nodes with a known MAC are powered in waves of up to `wave`,
// waves at least `interval_s` apart (the published method: waves of one, one after another).
// A node without a MAC is powered alone, and nothing else is powered until it is bound or given
// up. A MAC binds to it only when it is the one new MAC that leased within `bind_timeout_s` of
// its power-on: the right node or none. A node whose window passes without a new lease, or
// that sees two, is given up and powered off; while that power-off is not read back, no other
// node without a MAC is powered (its leases could not be told apart). A bound node has no
// reservation and no boot files yet: once `prepare` has made them, it is powered again to
// install. A new MAC that no node could be given is unclaimed: recorded, never bound by order
// later; it binds only if it asks for a lease again inside a node's window.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pxe/table.h"

namespace storkit {

enum class NodeBoot {
    kPending,    // not powered in this boot run yet
    kWaiting,    // powered without a known MAC: waiting for its first lease
    kBooted,     // powered with a known MAC: it installs now
    kBound,      // its MAC was learned; needs prepare, then another power-on
    kUnbound,    // given up (no single new lease in its window), and powered off
    kOffFailed,  // given up, but its power-off failed: it may still lease
    kFailed,     // its BMC failed
    kNoBmc,      // no BMC address known: cannot be powered
    kInstalled,  // installed (the install book): never powered, unless boot --force names it
    kRunning,    // found on and not marked for install: not power-cycled (it may be running)
};
const char* to_string(NodeBoot s);

struct NodeBootRecord {
    NodeBoot state = NodeBoot::kPending;
    double powered_at = 0;  // when its last power-on command was sent
    int power_ons = 0;
    std::string mac;  // learned by binding
    std::string ip;   // the lease that bound it
    double bound_at = 0;
    double given_up_at = 0;  // when it was given up (kUnbound, kOffFailed)
    std::string given_up;    // why it was given up
    std::string result;      // the power action's line ("...: on, booting pxe (bios, was off)")
    std::string error;
};

// A MAC no node could be given: it leased while no node without a MAC was waiting for one,
// beside another new MAC in a node's window, or `pxe-provision unbind` took it from a node.
struct UnclaimedLease {
    std::string ip;
    double time = 0;  // its lease, or the unbind
    std::string why;
};

// <pxe state>/boot.json: what the current boot run has done so far.
struct BootState {
    double started = 0;
    double last_wave = 0;  // when the last wave was powered
    std::map<std::string, NodeBootRecord> nodes;
    std::map<std::string, UnclaimedLease> unclaimed;  // by MAC

    nlohmann::json to_json() const;
    // Throws Error naming `path` on content that is not a boot state.
    static BootState from_json(const nlohmann::json& j, const std::string& path);
};

// <pxe state>/boot.json as it is now: empty when there is none. Throws Error naming the file on
// content that is not a boot state.
BootState read_boot_state(const std::string& path);

// Adds what the boot run knows of each node to the rows of a joined table: "boot" (its state),
// "powered_at" (its last power-on command, null before) and "boot_error". The monitor times
// every install from "powered_at". A phase reported before that power-on is an earlier
// install's: the row's phase is cleared. A lease of no node that is unclaimed gets "unclaimed"
// (why).
void add_boot_columns(nlohmann::json& table, const BootState& boot);

// A node as the planner sees it.
struct PlanEntry {
    std::string name;
    std::string bmc;        // "address:port", empty when unknown
    std::string mac;        // from the config or the node table; empty when unknown
    bool reserved = false;  // prepare has written its DHCP reservation with this MAC
};

struct BootSettings {
    size_t wave = 1;
    double interval_s = 10;
    double bind_timeout_s = 300;
};

struct BootStep {
    enum Kind {
        kPower,   // power `nodes` on (one wave)
        kBind,    // bind `mac` (leased at `ip`) to nodes[0]
        kUnbind,  // give nodes[0] up (`why`) and power it off
        kWait,    // nothing to do before `at`
        kDone,    // every node is through
    } kind = kDone;
    std::vector<std::string> nodes;
    std::string mac, ip;
    std::string why;
    std::vector<std::string> unclaimed;  // kUnbind: the MACs that made the window ambiguous
    double at = 0;
};

// The next step. Nodes in kPending (or kBound with their reservation ready) are the ones left
// to power; nodes without a BMC are never powered (the caller marks them kNoBmc). No node
// without a MAC is powered while a node is kOffFailed.
BootStep plan_boot(const std::vector<PlanEntry>& nodes, const BootState& state,
                   const DhcpLeaseTable& leases, const BootSettings& settings, double now);

// The MACs first seen as new leases since the run started that no node has, no node is waiting
// for (within its window) and that are not unclaimed yet, each with why it is unclaimed.
std::map<std::string, UnclaimedLease> new_unclaimed(const std::vector<PlanEntry>& nodes,
                                                    const BootState& state,
                                                    const DhcpLeaseTable& leases,
                                                    const BootSettings& settings);

}  // namespace storkit
