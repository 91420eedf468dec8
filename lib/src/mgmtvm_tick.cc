#include "storkit/mgmtvm_tick.h"

#include <future>

#include "storkit/error.h"
#include "storkit/log.h"

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

// Time left before the tick deadline, less a margin for the read-back and the report.
milliseconds left(Clock::time_point deadline) {
    auto l = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()) - milliseconds(500);
    return std::max(l, milliseconds(100));
}

}  // namespace

json TickResult::to_json() const {
    json peers = json::object();
    for (const auto& [name, st] : domains) {
        json p = {{"running", to_string(st.active)}, {"state", st.state}};
        if (!st.error.empty()) p["error"] = st.error;
        peers[name] = p;
    }
    return {{"action", to_string(decision.action)},
            {"rule", decision.rule},
            {"reason", decision.reason},
            {"observations",
             {{"service", answer_json(storage, "service")},
              {"volume", answer_json(storage, "volume")},
              {"master", answer_json(storage, "master")},
              {"here", to_string(obs.here)},
              {"elsewhere", to_string(running_elsewhere(obs.peers))},
              {"nodes", peers}}}};
}

TickResult run_tick(const MgmtvmConfig& cfg, Storage& storage, bool dry_run) {
    Clock::time_point deadline = Clock::now() + cfg.tick;
    TickResult r;

    // Every node's libvirt is asked at once, each within its own deadline, while the storage
    // questions run here.
    std::map<std::string, std::future<virt::DomainStatus>> asks;
    for (const NodeEntry& n : cfg.nodes)
        asks[n.name] =
            std::async(std::launch::async, virt::query, n.libvirt, cfg.vm_name, cfg.peer);
    observe_storage(storage, r);
    for (auto& [name, fut] : asks) {
        virt::DomainStatus st = fut.get();
        r.domains[name] = st;
        if (name == cfg.node)
            r.obs.here = st.active;
        else
            r.obs.peers.push_back({name, st.active});
        if (st.active == Tri::kUnknown) log::info("{}: {}", name, st.error);
    }

    r.decision = decide(r.obs);
    r.failed = r.decision.failed;
    const std::string& uri = cfg.self().libvirt;
    std::string done;
    try {
        if (r.decision.action == Action::kStart && !dry_run) {
            virt::start(uri, cfg.vm_name, cfg.domain_xml, left(deadline));
            r.changed = true;
        } else if (r.decision.action == Action::kStop && !dry_run) {
            // Graceful shutdown gets what the tick can spare; destroy must fit in the tick.
            milliseconds spare = left(deadline) - cfg.peer;
            virt::stop(uri, cfg.vm_name, std::clamp(spare, milliseconds(0), cfg.stop),
                       left(deadline));
            r.changed = true;
        }
        if (r.changed) {
            // Read the state back: the action counts only if libvirt now says so.
            virt::DomainStatus now = virt::query(uri, cfg.vm_name, cfg.peer);
            Tri want = r.decision.action == Action::kStart ? Tri::kYes : Tri::kNo;
            if (now.active != want)
                throw Error(fmt::format("after {} the VM is {} on {}", to_string(r.decision.action),
                                        now.state, cfg.node));
            r.domains[cfg.node] = now;
        }
        // libvirt must never start the VM on its own at boot: only the reconcile does.
        const virt::DomainStatus& here = r.domains[cfg.node];
        if (here.persistent && here.autostart) {
            if (!dry_run) virt::disable_autostart(uri, cfg.vm_name, left(deadline));
            log::warn("autostart of {} was on; {}", cfg.vm_name,
                      dry_run ? "would switch it off" : "switched it off");
            if (!dry_run) r.changed = true;
            r.domains[cfg.node].autostart = dry_run;
        }
    } catch (const Error& e) {
        r.failed = true;
        done = e.what();
    }
    std::string verb =
        r.decision.action == Action::kNone ? "" : std::string(to_string(r.decision.action));
    if (!done.empty())
        r.msg = fmt::format("{}: {} failed: {}", cfg.node, verb.empty() ? "tick" : verb, done);
    else if (dry_run && !verb.empty())
        r.msg = fmt::format("{}: would {}: {}", cfg.node, verb, r.decision.reason);
    else
        r.msg = fmt::format("{}: {}: {}", cfg.node, verb.empty() ? "no action" : verb,
                            r.decision.reason);
    return r;
}

}  // namespace storkit
