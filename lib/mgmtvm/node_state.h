// What one node's reconcile remembers between ticks, in one JSON file written atomically:
// consecutive failed lease renewals, the lease epoch whose other clients are known fenced, and
// the last decision (which mgmtvm-status shows).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mgmtvm/vm_lease.h"

namespace storkit {

// Its implicit moves are nlohmann::json's noexcept ones (clang-tidy 14 reads the
// assert_invariant() they call as one that throws, as for ConfigFile).
struct NodeState {  // NOLINT(bugprone-exception-escape)
    int renew_failures = 0;
    int local_silent = 0;  // consecutive ticks this node's own libvirt did not answer
    // When the lease this node last renewed or acquired runs out, on the storage's clock
    // (0: not known).
    double lease_expires = 0;
    // The lease epoch this node holds and for which every other client of the VM's volume is
    // known to be cut off (fenced, or the lease came to it cleanly released). A start under a
    // newer epoch fences first; so forgetting it only costs a fencing, never safety.
    uint64_t fenced_epoch = 0;
    // Are the other clients known cut off for lease epoch `epoch`? Only for that very epoch: a
    // lease store that lost its record starts counting again, and an epoch this node fenced
    // long ago says nothing about who has the volume open now.
    bool fenced(uint64_t epoch) const { return fenced_epoch != 0 && fenced_epoch == epoch; }
    // When the last ticks began, on the storage's clock, oldest first (at most three).
    std::vector<double> tick_starts;
    nlohmann::json last = nullptr;  // the last tick's trace, with "time"

    nlohmann::json to_json() const;
    static NodeState from_json(const nlohmann::json& j);
};

std::string node_state_path(const std::string& state_dir, const std::string& node);

// A missing or unreadable file gives a fresh state: the reconcile is safe without memory (it
// forgets how long renewals have failed, and fences again before its next start).
NodeState load_node_state(const std::string& path);
void save_node_state(const std::string& path, const NodeState& s);

}  // namespace storkit
