// What one node's reconcile remembers between ticks, in one JSON file written atomically:
// consecutive failed lease renewals, a takeover whose fencing has not succeeded yet, and the
// last decision (which mgmtvm-status shows).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "mgmtvm/vm_lease.h"

namespace storkit {

struct NodeState {
    int renew_failures = 0;
    std::optional<VmLease> fence_pending;  // the holder to fence before starting the VM
    nlohmann::json last = nullptr;         // the last tick's trace, with "time"

    nlohmann::json to_json() const;
    static NodeState from_json(const nlohmann::json& j);
};

std::string node_state_path(const std::string& state_dir, const std::string& node);

// A missing or unreadable file gives a fresh state (the reconcile is safe without memory: it
// only forgets how long renewals have failed, and a pending fencing is also found again
// through the lease's previous holder).
NodeState load_node_state(const std::string& path);
void save_node_state(const std::string& path, const NodeState& s);

}  // namespace storkit
