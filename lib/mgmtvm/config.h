// /etc/storkit/mgmtvm.json: which node this is, the management VM, every node's libvirt URI,
// the storage backend and the deadlines.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/config_file.h"

namespace storkit {

struct PeerEntry {
    std::string name;
    std::string libvirt;  // libvirt URI of that node
};

struct MgmtvmConfig {
    ConfigFile file;
    std::string node;  // this node (from "node" or --node)
    std::string vm_name;
    std::string domain_xml;        // path of the domain definition, the same on every node
    std::string volume;            // the volume holding the VM's disk (for the storage backend)
    std::vector<PeerEntry> nodes;  // every node, sorted by name
    std::string state_dir;         // lock file and last decision
    std::chrono::milliseconds tick{45000}, peer{5000}, stop{60000};
    int lease_ticks = 3;               // the lease lasts lease_ticks x lease_tick_s
    double lease_tick_s = 60;          // the reconcile's period (the crontab interval)
    bool allow_unknown_peers = false;  // the published behaviour: start past silent peers
    // lease.fencing "none": a takeover starts the VM without fencing the old holder's clients,
    // trusting it to have stopped before its lease expired. Without it, a backend with a lease
    // must be able to fence.
    bool fencing_none = false;
    // placement "sticky" (the default): the VM stays on a healthy node that holds the lease;
    // "follow-master" (the published method): it runs on the storage master, so every master
    // change is a cold stop and start.
    bool sticky = true;

    double lease_seconds() const { return lease_ticks * lease_tick_s; }

    const PeerEntry& self() const;
    ConfigNode storage() const { return file.root().object("storage"); }
};

inline constexpr const char* kDefaultMgmtvmConfig = "/etc/storkit/mgmtvm.json";

// Loads and validates the whole file, the storage section included; `node_override` (from
// --node) replaces "node". Throws one ConfigError listing every problem, each naming the file
// and key path.
MgmtvmConfig load_mgmtvm_config(const std::string& path, const std::string& node_override);

// Every object of the file with the keys it allows, the storage backends' included: what loading
// checks and what man/mgmtvm-reconcile.1 documents.
std::vector<ConfigSection> mgmtvm_config_sections();

}  // namespace storkit
