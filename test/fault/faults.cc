// The faults the harness injects: one between two rounds of ticks (a table of weighted kinds),
// and at times one inside a round.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <filesystem>

#include "cluster.h"
#include "core/statefile.h"

namespace fault {

using std::chrono::milliseconds;

// The node a fault hits. Faults on the node that runs the VM and on the master are the ones that
// can lead to two copies, so each gets a share beyond its turn.
Node& Cluster::target() {
    double r = std::uniform_real_distribution<double>(0, 1)(*rng_);
    std::string m = master();
    for (Node& n : nodes_)
        if ((r < 0.4 && n.running) || (r >= 0.4 && r < 0.7 && n.name == m)) return n;
    return nodes_[pick(nodes_.size())];
}

Node* Cluster::pick_node(bool (*fits)(const Node&)) {
    Node& t = target();
    if (fits(t)) return &t;
    std::vector<Node*> c;
    for (Node& n : nodes_)
        if (fits(n)) c.push_back(&n);
    return c.empty() ? nullptr : c[pick(c.size())];
}

std::string Cluster::inject() {
    // Single-node faults are the common case, a whole-cluster power loss the rare one.
    static constexpr struct {
        int weight;
        std::string (Cluster::*inject)(Node&);
    } kFaults[] = {
        {4, &Cluster::storage_fails},
        {2, &Cluster::storage_recovers},
        {1, &Cluster::fencing},
        {2, &Cluster::libvirtd_stops},
        {2, &Cluster::libvirtd_continues},
        {1, &Cluster::power_cycle},
        {2, &Cluster::power_toggle},
        {1, &Cluster::master_moves},
        {2, &Cluster::hang_toggle},
        {2, &Cluster::maintenance},
        {1, &Cluster::cluster_power_loss},
        {1, &Cluster::state_corrupted},
    };
    int total = 0;
    for (const auto& f : kFaults) total += f.weight;
    int r = static_cast<int>(pick(total));
    Node& n = target();
    for (const auto& f : kFaults) {
        if (r < f.weight) return (this->*f.inject)(n);
        r -= f.weight;
    }
    return "none";
}

// One part of the node's storage fails, answers unknown or answers too late.
std::string Cluster::storage_fails(Node& n) {
    std::string part = kStorageParts[pick(std::size(kStorageParts))];
    switch (pick(3)) {
        case 0: set_part(n, part, "fail"); return "storage " + part + " fails";
        case 1: set_part(n, part, "unknown"); return "storage " + part + " answers unknown";
        default:
            set_part(n, part, fmt::format("slow {}", kSlowS));
            return "storage " + part + " answers too late";
    }
}

std::string Cluster::storage_recovers(Node&) {
    Node* f = pick_node([](const Node& n) { return !n.storage.empty(); });
    if (!f) return "none";
    std::string part = std::next(f->storage.begin(), pick(f->storage.size()))->first;
    set_part(*f, part, "");
    return "storage " + part + " recovers";
}

std::string Cluster::fencing(Node&) {
    static const char* const kFence[][2] = {{"fail", "fencing fails"},
                                            {"unknown", "fencing answer lost"},
                                            {"slow", "fencing answers too late"},
                                            {kFenceHealthy, "fencing works again"}};
    const char* const* f = kFence[pick(std::size(kFence))];
    std::string value = f[0] == std::string("slow") ? fmt::format("slow {}", kSlowS) : f[0];
    storkit::write_file_atomic(dir_ + "/sim/fence", value + "\n");
    return f[1];
}

// The daemon freezes between two rounds: it keeps the copy it has (the harness knows which).
std::string Cluster::libvirtd_stops(Node& n) {
    if (n.dead || n.frozen) return "none";
    freeze(n, true);
    return "libvirtd stopped";
}

std::string Cluster::libvirtd_continues(Node& n) {
    if (!n.frozen || n.hung) return "none";
    freeze(n, false);
    return "libvirtd continued";
}

// A libvirtd restart that keeps the VM cannot be played: the test driver keeps its domains
// inside the daemon, so they die with it, where qemu would outlive libvirtd. Killing the daemon
// is a node power cycle, and it is named as one; a daemon that stops answering while its VM
// runs is "libvirtd stopped".
std::string Cluster::power_cycle(Node& n) {
    if (n.dead) return "none";
    power(n, false);
    power(n, true);
    return "node power cycle";
}

// The node's state file is torn (a disk error, an editor): the next tick must start afresh and
// fence before any start, since what it had fenced is forgotten.
std::string Cluster::state_corrupted(Node& n) {
    std::string path = fmt::format("{}/state/mgmtvm.{}.json", dir_, n.name);
    storkit::write_file_atomic(path, "{\"renew_failures\": 0, \"fenced_ep");
    return "state file corrupted";
}

std::string Cluster::power_toggle(Node& n) {
    power(n, n.dead);
    return n.dead ? "node powered off" : "node powered on";
}

std::string Cluster::master_moves(Node&) {
    elect(Election::kMove);
    return "master moves";
}

std::string Cluster::hang_toggle(Node& n) {
    if (n.dead) return "none";
    if (n.hung) {
        n.hung = false;
        freeze(n, false);
        return "node resumes";
    }
    if (!n.frozen) freeze(n, true);
    n.hung = true;
    // The storage cluster notices a hung node and elects another master.
    if (master() == n.name) elect(Election::kKeep, n.name);
    return "node hangs";
}

// The operator sets or ends maintenance, where every node reads it (the shared store).
std::string Cluster::maintenance(Node& n) {
    std::string what;
    nlohmann::json entry = {
        {"until", nullptr}, {"reason", "fault harness"}, {"set_by", "harness"}, {"set_at", now_}};
    if (pick(3) == 0) {
        bool on = maint_["global"].is_null();
        maint_["global"] = on ? entry : nlohmann::json(nullptr);
        what = on ? "operator sets global maintenance" : "operator ends global maintenance";
    } else {
        bool on = !maint_["nodes"].contains(n.name);
        if (on)
            maint_["nodes"][n.name] = entry;
        else
            maint_["nodes"].erase(n.name);
        what = on ? "operator sets node maintenance" : "operator ends node maintenance";
    }
    storkit::make_dirs(dir_ + "/sim/shared");
    storkit::write_file_atomic(dir_ + "/sim/shared/maintenance", maint_.dump(2) + "\n");
    return what;
}

std::string Cluster::cluster_power_loss(Node&) {
    for (Node& m : nodes_) power(m, false);
    return "whole-cluster power loss";
}

MidTick Cluster::plan_mid_tick(const std::map<std::string, double>& last_secs) {
    MidTick m;
    // While a hung node's copy runs and its lease has run out, the master's next start is a
    // takeover: a crash between its steps (lease, fencing, start, remembering) is where two
    // copies could arise, so most such rounds get one.
    bool hung_copy = std::any_of(nodes_.begin(), nodes_.end(),
                                 [](const Node& n) { return n.hung && n.running; });
    std::optional<std::string> lease = storkit::read_file(dir_ + "/sim/lease.json");
    bool takeover_ahead =
        hung_copy && lease && nlohmann::json::parse(*lease).value("expires", 0.0) <= now_;
    double r = std::uniform_real_distribution<double>(0, 1)(*rng_);
    if (takeover_ahead && r < 0.6) {
        m.kind = MidTick::kKillAfterLease;
    } else if (r < 0.15) {
        // A tick ended by its own deadline costs that deadline in real time: rarer than the
        // others; and only the sim can play a storage call that ignores its own deadline.
        size_t k = pick(o_.backend == "sim" ? 10 : 9);
        m.kind = k < 3   ? MidTick::kKillTick
                 : k < 6 ? MidTick::kKillAfterLease
                 : k < 9 ? MidTick::kStallDaemon
                         : MidTick::kDeadline;
    } else {
        return m;
    }
    Node* n = nullptr;
    if (m.kind == MidTick::kStallDaemon) {
        n = pick_node([](const Node& n) { return !n.dead && !n.frozen; });
    } else {
        // The master is the node that takes the lease over.
        for (Node& c : nodes_)
            if (m.kind == MidTick::kKillAfterLease && c.name == master() && !c.dead && !c.hung)
                n = &c;
        if (!n) n = pick_node([](const Node& n) { return !n.dead && !n.hung; });
    }
    if (!n) return MidTick{};
    m.node = n->name;
    if (m.kind == MidTick::kStallDaemon) m.daemon = daemon_pid(*n);
    m.lease_file = dir_ + "/sim/lease.json";
    auto it = last_secs.find(n->name);
    double secs = it == last_secs.end() ? 0.1 : it->second;
    m.at = milliseconds(pick(std::max<size_t>(1, static_cast<size_t>(secs * 1100))));
    if (m.kind == MidTick::kDeadline) {
        // Every bounded call fits in the tick (the config check sees to it), so the watchdog
        // ends only a tick held up by something that ignores its deadline: one storage part of
        // the node stalls for good. Which part sets where the tick ends. The round runs with
        // the shortest deadline the check accepts for short storage and libvirt deadlines:
        // 8 sim calls x 0.1 s + 2 x 0.2 s + 0.2 s + 1.5 s.
        std::string part = kStorageParts[pick(std::size(kStorageParts))];
        m.stall_file = fmt::format("{}/sim/nodes/{}/{}", dir_, n->name, part);
        m.stall_before = storkit::read_file(m.stall_file);
        storkit::make_dirs(fmt::format("{}/sim/nodes/{}", dir_, n->name));
        storkit::write_file_atomic(m.stall_file, "stall 60\n");
        nlohmann::json cfg = nlohmann::json::parse(*storkit::read_file(config()));
        cfg["storage"]["timeout_s"] = 0.1;
        cfg["deadlines"] = {{"tick_s", 2.9}, {"peer_s", 0.2}, {"stop_s", 0.2}};
        m.config = dir_ + "/mgmtvm.deadline.json";
        storkit::write_file_atomic(m.config, cfg.dump(2));
    }
    return m;
}

}  // namespace fault
