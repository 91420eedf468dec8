// One reconcile tick on one node: observe (storage, the lease, maintenance and every node's
// libvirt, concurrently), decide (reconcile.h), act (virt.h, the lease and fencing), remember
// (node_state.h) and describe all of it as a JSON trace.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "mgmtvm/config.h"
#include "mgmtvm/reconcile.h"
#include "mgmtvm/storage.h"
#include "mgmtvm/virt.h"
#include "mgmtvm/vm_lease.h"

namespace storkit {

struct TickResult {
    Observations obs;
    Decision decision;
    std::map<std::string, StorageAnswer> storage;       // "service", "volume", "master" as asked
    std::map<std::string, virt::DomainStatus> domains;  // every node's answer
    VmLeaseOutcome lease;               // the lease after this tick's renewal or read
    std::optional<VmLease> break_from;  // a holder an operator confirmed down: may be taken
    std::vector<std::string> steps;     // what was done: "renewed lease epoch 4", "fenced ..."
    std::vector<std::string> warnings;  // what the operator should fix (also logged)
    bool changed = false;
    bool failed = false;
    std::string msg;  // one line: what was seen, done and why

    nlohmann::json to_json() const;
};

TickResult run_tick(const MgmtvmConfig& cfg, Storage& storage, bool dry_run);

// A tick ended by its deadline still leaves its mark: the failure as the last decision, and
// a renewal that may not have happened counted as failed (so that a holder whose ticks keep
// overrunning weighs its lease's expiry). Called from the watchdog, as the process ends.
void record_tick_overrun(const MgmtvmConfig& cfg, const std::string& msg);

}  // namespace storkit
