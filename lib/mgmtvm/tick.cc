#include "mgmtvm/tick.h"

#include <future>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "core/statefile.h"
#include "mgmtvm/maintenance.h"
#include "mgmtvm/node_state.h"
#include "mgmtvm/tick_budget.h"
#include "mgmtvm/tick_lease.h"

namespace storkit {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

json answer_json(const std::map<std::string, StorageAnswer>& asked, const std::string& key) {
    auto it = asked.find(key);
    if (it == asked.end()) return nullptr;  // not asked: the flow stopped before it
    return {{"value", to_string(it->second.value)}, {"detail", it->second.detail}};
}

// The published flow asks in order and stops at the first "no"; so does the tick.
void observe_storage(Storage& storage, TickResult& r) {
    r.storage["service"] = storage.service_healthy();
    r.obs.service = r.storage["service"].value;
    if (r.obs.service != Tri::kYes) return;
    r.storage["volume"] = storage.volume_healthy();
    r.obs.volume = r.storage["volume"].value;
    if (r.obs.volume != Tri::kYes) return;
    r.storage["master"] = storage.is_master();
    r.obs.master = r.storage["master"].value;
}

// Time left before the tick deadline, less what must stay for the steps after this one
// (`keep`) and the report.
milliseconds left(Clock::time_point deadline, milliseconds keep = milliseconds(0)) {
    auto l = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()) - keep -
             kTickReportMargin;
    return std::max(l, milliseconds(100));
}

void act(const MgmtvmConfig& cfg, Storage& storage, NodeState& st, Clock::time_point deadline,
         TickResult& r) {
    const std::string& uri = cfg.self().libvirt;
    if (r.decision.action == Action::kStart) {
        if (!prepare_start(cfg, storage, st, r)) return;
        virt::start(uri, cfg.vm_name, cfg.domain_xml, left(deadline, after_action(storage, cfg)));
        r.changed = true;
    } else if (r.decision.action == Action::kStop) {
        // Graceful shutdown gets what the tick can spare after keeping the time of the
        // read-back and the storage calls that follow; destroy must fit in the tick.
        milliseconds keep = after_action(storage, cfg);
        milliseconds graceful = std::min(left(deadline, keep + kDestroyTime), cfg.stop);
        virt::stop(uri, cfg.vm_name, graceful, left(deadline, keep));
        r.changed = true;
    } else if (r.decision.action == Action::kResume) {
        virt::resume(uri, cfg.vm_name, left(deadline, after_action(storage, cfg)));
        r.changed = true;
    }
    if (r.changed) {
        // Read the state back: the action counts only if libvirt now says so. Until then the
        // lease stays held: a copy not confirmed stopped may still write.
        virt::DomainStatus now = virt::query(uri, cfg.vm_name, cfg.peer);
        Tri want = r.decision.action == Action::kStop ? Tri::kNo : Tri::kYes;
        bool resumed = r.decision.action != Action::kResume || now.paused == virt::Pause::kNone;
        if (now.active != want || !resumed)
            throw Error(fmt::format("after {} the VM is {} on {}", to_string(r.decision.action),
                                    now.state, cfg.node));
        r.domains[cfg.node] = now;
    }
    if (r.decision.action == Action::kStop && r.obs.lease == LeaseView::kMine) {
        VmLeaseOutcome rel = storage.lease_release();
        r.steps.push_back("lease: " + rel.detail);
    } else if (r.decision.action == Action::kNone && r.obs.here == Tri::kNo &&
               r.obs.lease == LeaseView::kMine && st.fenced(r.lease.info.epoch)) {
        // The VM is gone from here (crashed, stopped by hand) and this node will not start it:
        // give the lease back, so the master starts it at once instead of waiting for expiry
        // and fencing. Only under an epoch this node fenced: a release tells the next holder
        // that nobody else can still write.
        VmLeaseOutcome rel = storage.lease_release();
        r.steps.push_back("lease: the VM is gone from here: " + rel.detail);
        if (rel.status == VmLeaseStatus::kOk) r.changed = true;
    }
    // libvirt must never start the VM on its own at boot: only the reconcile does.
    virt::DomainStatus& here = r.domains[cfg.node];
    if (here.persistent && here.autostart) {
        virt::disable_autostart(uri, cfg.vm_name, left(deadline));
        log::warn("autostart of {} was on; switched it off", cfg.vm_name);
        here.autostart = false;
        r.changed = true;
    }
}

std::string summary(const MgmtvmConfig& cfg, const TickResult& r, bool dry_run) {
    std::string verb(to_string(r.decision.action));
    if (r.decision.action == Action::kNone)
        return fmt::format("{}: no action: {}", cfg.node, r.decision.reason);
    // What an action took (lease, fencing) belongs in its one line.
    std::string steps;
    for (const std::string& s : r.steps) steps += (steps.empty() ? " [" : "; ") + s;
    if (!steps.empty()) steps += "]";
    return fmt::format("{}: {}{}: {}{}", cfg.node, dry_run ? "would " : "", verb, r.decision.reason,
                       steps);
}

// The lease's length assumes a tick every lease.tick_s. Ticks that keep coming much later let it
// run out between renewals (a takeover and a restart for nothing); ticks much more often make a
// takeover wait longer than it needs to. Two intervals in a row off the same way (not one: a
// node that was off comes back after a long one) get a warning.
void check_tick_period(const MgmtvmConfig& cfg, double started, NodeState& st, TickResult& r) {
    st.tick_starts.push_back(started);
    if (st.tick_starts.size() > 3) st.tick_starts.erase(st.tick_starts.begin());
    if (st.tick_starts.size() < 3) return;
    double a = st.tick_starts[1] - st.tick_starts[0], b = st.tick_starts[2] - st.tick_starts[1];
    double period = cfg.lease_tick_s;
    bool slow = a > 1.5 * period && b > 1.5 * period;
    bool fast = a > 0 && b > 0 && a < 0.5 * period && b < 0.5 * period;
    if (!slow && !fast) return;
    std::string w = fmt::format(
        "the last ticks began {:.0f} s and {:.0f} s apart, but lease.tick_s is {} s: {}; run the "
        "tick every lease.tick_s, or set lease.tick_s to how often it runs",
        a, b, period,
        slow ? "the lease may run out between renewals"
             : "a takeover waits longer for the lease than it needs to");
    log::warn("{}", w);
    r.warnings.push_back(w);
}

}  // namespace

json TickResult::to_json() const {
    json nodes = json::object();
    for (const auto& [name, st] : domains) {
        json p = {{"running", to_string(st.active)}, {"state", st.state}};
        if (st.paused != virt::Pause::kNone) p["paused_by"] = st.pause_reason;
        if (!st.error.empty()) p["error"] = st.error;
        nodes[name] = p;
    }
    json lease_json = nullptr;
    if (obs.lease != LeaseView::kOff)
        lease_json = {{"view", to_string(obs.lease)},
                      {"holder", lease.info.node},
                      {"epoch", lease.info.epoch},
                      {"expires_in_s", lease.info.expires - lease.info.now},
                      {"detail", lease.detail}};
    return {{"action", to_string(decision.action)},
            {"rule", decision.rule},
            {"reason", decision.reason},
            {"steps", steps},
            {"warnings", warnings},
            {"observations",
             {{"service", answer_json(storage, "service")},
              {"volume", answer_json(storage, "volume")},
              {"master", answer_json(storage, "master")},
              {"here", to_string(obs.here)},
              {"elsewhere", to_string(running_elsewhere(obs.peers))},
              {"maintenance", to_string(obs.maint)},
              {"lease", lease_json},
              {"renew_overdue", obs.renew_overdue},
              {"nodes", nodes}}}};
}

void record_tick_overrun(const MgmtvmConfig& cfg, const std::string& msg) {
    std::string path = node_state_path(cfg.state_dir, cfg.node);
    NodeState st = load_node_state(path);
    st.renew_failures += 1;
    st.last = {{"time", now_seconds()},
               {"action", "none"},
               {"rule", "tick-deadline"},
               {"reason", "the tick ran past its deadline"},
               {"changed", false},
               {"failed", true},
               {"msg", msg}};
    save_node_state(path, st);
}

TickResult run_tick(const MgmtvmConfig& cfg, Storage& storage, bool dry_run) {
    Clock::time_point deadline = Clock::now() + cfg.tick;
    TickResult r;
    std::string state_path = node_state_path(cfg.state_dir, cfg.node);
    NodeState st = load_node_state(state_path);
    if (storage.supports_lease()) check_tick_period(cfg, storage.now(), st, r);

    // This node's libvirt is asked while the storage questions run here. Only the master's
    // decision depends on where else the VM runs (tested: every other row matches any peer
    // answer), so only a master asks the other nodes, all at once, each within its deadline.
    auto ask = [&](const PeerEntry& n) {
        return std::async(std::launch::async, virt::query, n.libvirt, cfg.vm_name, cfg.peer);
    };
    std::future<virt::DomainStatus> here = ask(cfg.self());
    observe_storage(storage, r);
    std::map<std::string, std::future<virt::DomainStatus>> peers;
    if (r.obs.master == Tri::kYes)
        for (const PeerEntry& n : cfg.nodes)
            if (n.name != cfg.node) peers[n.name] = ask(n);
    Maintenance record;
    try {
        MaintenanceStore maint(storage, cfg.state_dir);
        record = maint.load();
        r.obs.maint = record.effective(cfg.node, storage.now());
    } catch (const std::exception& e) {
        r.obs.maint = Maint::kUnknown;
        r.steps.push_back(fmt::format("maintenance unreadable: {}", e.what()));
    }
    virt::DomainStatus local = here.get();
    r.domains[cfg.node] = local;
    r.obs.here = local.active;
    r.obs.paused_io = local.paused == virt::Pause::kIoError;
    st.local_silent = local.active == Tri::kUnknown ? st.local_silent + 1 : 0;
    for (const PeerEntry& n : cfg.nodes) {
        if (n.name == cfg.node) continue;
        auto it = peers.find(n.name);
        if (it == peers.end()) {
            // Not asked: unknown, never "not running".
            r.obs.peers.push_back({n.name, Tri::kUnknown});
            continue;
        }
        virt::DomainStatus answer = it->second.get();
        r.domains[n.name] = answer;
        r.obs.peers.push_back({n.name, answer.active});
    }
    r.obs.allow_unknown_peers = cfg.allow_unknown_peers;
    r.obs.sticky = cfg.sticky;
    if (storage.supports_lease()) {
        keep_lease(cfg, storage, dry_run, st, r);
        take_confirmed_down(record, r);
    }

    r.decision = decide(r.obs);
    r.failed = r.decision.failed;
    if (!dry_run && r.obs.maint != Maint::kGlobal && r.obs.maint != Maint::kUnknown) {
        try {
            act(cfg, storage, st, deadline, r);
        } catch (const Error& e) {
            r.failed = true;
            r.msg =
                fmt::format("{}: {} failed: {}", cfg.node, to_string(r.decision.action), e.what());
        }
    }
    if (r.msg.empty()) r.msg = summary(cfg, r, dry_run);
    if (!dry_run) {
        json trace = r.to_json();
        trace["time"] = now_seconds();
        trace["changed"] = r.changed;
        trace["failed"] = r.failed;
        trace["msg"] = r.msg;
        st.last = trace;
        save_node_state(state_path, st);
        if (storage.supports_shared()) {
            try {
                storage.shared_write("decision." + cfg.node, trace.dump() + "\n");
            } catch (const std::exception& e) {
                log::warn("cannot publish the decision: {}", e.what());
            }
        }
    }
    return r;
}

}  // namespace storkit
