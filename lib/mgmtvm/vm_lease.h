// The lease on the management VM, held in the storage itself: only the holder may run the VM,
// and a holder that stops renewing loses it at expiry, so a dead node cannot block the cluster.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace storkit {

// What the storage says about the lease. Times are seconds on the storage's clock.
struct VmLease {
    std::string node;       // holder, or the last holder after a release/expiry ("" = never held)
    uint64_t epoch = 0;     // fencing token: +1 on every acquisition
    double expires = 0;     // when the holder's claim ends
    bool released = false;  // the last holder gave it up cleanly (no fencing needed)
    double now = 0;         // the storage's clock when this was read
    // Why the stored record could not be read ("" when it could). Such a lease counts as never
    // held: nobody is known to hold it, the next acquire replaces the record, and a start under
    // it fences first (as after a lost record).
    std::string unreadable;

    bool live() const { return !node.empty() && !released && expires > now; }
    bool live_for(const std::string& n) const { return live() && node == n; }
    nlohmann::json to_json() const;
    // Throws std::runtime_error on a malformed record.
    static VmLease from_json(const nlohmann::json& j);
};

enum class VmLeaseStatus {
    kOk,     // done
    kBusy,   // another node holds a live lease
    kLost,   // this node no longer holds it (another node acquired a newer epoch)
    kError,  // the storage did not answer (see detail)
};

struct VmLeaseOutcome {
    VmLeaseStatus status = VmLeaseStatus::kError;
    VmLease info;        // the lease after the operation (when known)
    std::string detail;  // why, for the trace
};

const char* to_string(VmLeaseStatus s);

}  // namespace storkit
