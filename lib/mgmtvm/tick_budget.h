// How long one tick can take at worst: the deadlines of the storage calls on its longest paths
// added up, with the libvirt deadlines and the stop's grace. The config check refuses deadlines
// that cannot fit in deadlines.tick_s, and a stopping tick leaves the calls after the stop
// their time.
#pragma once

#include <chrono>
#include <string>

#include "mgmtvm/config.h"
#include "mgmtvm/storage.h"

namespace storkit {

// What a tick keeps for its report after its last call.
inline constexpr std::chrono::milliseconds kTickReportMargin{500};
// What a stop keeps after the graceful wait to destroy a guest that ignored it.
inline constexpr std::chrono::milliseconds kDestroyTime{1000};

struct TickBudget {
    int calls = 0;                         // storage calls on the path
    std::chrono::milliseconds storage{0};  // their deadlines, added up
    std::chrono::milliseconds total{0};    // + libvirt deadlines, the stop's grace, the margin
};

// The longest tick: one that stops the VM. The probes, the maintenance record, a renewal and an
// adoption of the lease, asking the nodes (peer_s), the graceful stop (stop_s) and the destroy,
// the read-back (peer_s), the release and publishing the decision. A starting tick makes no
// more storage calls (a lease read and a fencing instead of a renewal and a release), so its
// start gets at least stop_s.
TickBudget stop_tick_budget(const Storage& storage, const MgmtvmConfig& cfg);
// What an action (start, stop, resume) must leave in the tick for the read-back and the storage
// calls after it (a release, publishing the decision).
std::chrono::milliseconds after_action(const Storage& storage, const MgmtvmConfig& cfg);

// "" when the worst tick fits in deadlines.tick_s, or why not and what to change.
std::string check_tick_budget(const Storage& storage, const MgmtvmConfig& cfg);

}  // namespace storkit
