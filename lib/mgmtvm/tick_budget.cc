#include "mgmtvm/tick_budget.h"

#include <fmt/format.h>

#include <initializer_list>

namespace storkit {

using std::chrono::milliseconds;
using Call = Storage::Call;

namespace {

// The calls a backend makes for these steps: lease calls only with a lease, the maintenance
// record and the decision only through a shared store.
TickBudget add(const Storage& s, std::initializer_list<Call> calls) {
    TickBudget b;
    for (Call c : calls) {
        bool lease = c == Call::kLeaseRead || c == Call::kLeaseChange;
        bool shared = c == Call::kSharedRead || c == Call::kSharedWrite;
        if ((lease && !s.supports_lease()) || (shared && !s.supports_shared()) ||
            (c == Call::kFence && !s.supports_fence()))
            continue;
        b.calls += 1;
        b.storage += s.longest(c);
    }
    return b;
}

double secs(milliseconds ms) {
    return static_cast<double>(ms.count()) / 1000.0;
}

}  // namespace

TickBudget stop_tick_budget(const Storage& s, const MgmtvmConfig& cfg) {
    TickBudget b =
        add(s, {Call::kProbe, Call::kProbe, Call::kProbe, Call::kSharedRead, Call::kLeaseChange,
                Call::kLeaseChange, Call::kLeaseChange, Call::kSharedWrite});
    b.total = b.storage + 2 * cfg.peer + cfg.stop + kDestroyTime + kTickReportMargin;
    return b;
}

milliseconds after_action(const Storage& s, const MgmtvmConfig& cfg) {
    return cfg.peer + add(s, {Call::kLeaseChange, Call::kSharedWrite}).storage;
}

std::string check_tick_budget(const Storage& s, const MgmtvmConfig& cfg) {
    TickBudget stop = stop_tick_budget(s, cfg);
    if (stop.total <= cfg.tick) return "";
    return fmt::format(
        "a tick that stops the VM can take {} s, more than deadlines.tick_s ({} s): {} storage "
        "calls of up to {} s in all (storage.timeout_s), 2 x deadlines.peer_s, deadlines.stop_s, "
        "{} s to destroy, and {} s to report; raise deadlines.tick_s (it must stay under the "
        "tick's period, lease.tick_s), or lower storage.timeout_s, deadlines.peer_s or "
        "deadlines.stop_s",
        secs(stop.total), secs(cfg.tick), stop.calls, secs(stop.storage), secs(kDestroyTime),
        secs(kTickReportMargin));
}

}  // namespace storkit
