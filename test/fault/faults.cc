// The faults the harness injects between two rounds of ticks: a table of weighted kinds.
#include <fmt/format.h>

#include "cluster.h"
#include "core/statefile.h"

namespace fault {

// The node a fault hits.
Node& Cluster::target() {
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
        {2, &Cluster::storage_fails},
        {2, &Cluster::storage_recovers},
        {2, &Cluster::fencing},
        {2, &Cluster::libvirtd_stops},
        {2, &Cluster::libvirtd_continues},
        {2, &Cluster::power_cycle},
        {2, &Cluster::power_toggle},
        {2, &Cluster::master_moves},
        {2, &Cluster::hang_toggle},
        {1, &Cluster::cluster_power_loss},
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

// The node's storage service and its lease operations fail.
std::string Cluster::storage_fails(Node& n) {
    set_part(n, "service", "fail");
    set_part(n, "lease", "fail");
    return "storage fails";
}

std::string Cluster::storage_recovers(Node& n) {
    set_part(n, "service", "");
    set_part(n, "lease", "");
    return "storage recovers";
}

std::string Cluster::fencing(Node&) {
    bool failing = storkit::read_file(dir_ + "/sim/fence").value_or("") == "fail\n";
    storkit::write_file_atomic(dir_ + "/sim/fence", failing ? "ok\n" : "fail\n");
    return failing ? "fencing works again" : "fencing fails";
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

// This was "libvirtd killed and restarted". The test driver keeps its domains inside the daemon,
// so they die with it, where qemu would outlive libvirtd: that is a node power cycle, and it is
// named as one.
std::string Cluster::power_cycle(Node& n) {
    if (n.dead) return "none";
    power(n, false);
    power(n, true);
    return "node power cycle";
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

std::string Cluster::cluster_power_loss(Node&) {
    for (Node& m : nodes_) power(m, false);
    return "whole-cluster power loss";
}

}  // namespace fault
