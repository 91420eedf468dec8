#include "mgmtvm/config.h"

#include <algorithm>

#include "core/error.h"
#include "core/trust.h"

namespace storkit {

const PeerEntry& MgmtvmConfig::self() const {
    for (const PeerEntry& n : nodes)
        if (n.name == node) return n;
    throw ConfigError(fmt::format("{}: node \"{}\" is not in nodes", file.path(), node));
}

MgmtvmConfig load_mgmtvm_config(const std::string& path, const std::string& node_override) {
    MgmtvmConfig c;
    c.file = ConfigFile::load(path);
    // The file names commands that run as root: only root may be able to change it.
    require_root_only_writable(path, "config");
    ConfigNode root = c.file.root();
    root.allow_only({"node", "vm", "nodes", "storage", "deadlines", "state_dir", "lease",
                     "allow_start_with_unknown_peers"});

    c.node = node_override.empty() ? root.string("node") : node_override;

    ConfigNode vm = root.object("vm");
    vm.allow_only({"name", "domain_xml", "volume"});
    c.vm_name = vm.string("name");
    c.domain_xml = vm.string("domain_xml");
    if (c.domain_xml[0] != '/') vm.fail("domain_xml", "expected an absolute path");
    c.volume = vm.string_or("volume", "");

    ConfigNode nodes = root.object("nodes");
    for (const std::string& name : nodes.keys()) {
        ConfigNode n = nodes.object(name);
        n.allow_only({"libvirt"});
        c.nodes.push_back({name, n.string("libvirt")});
    }
    if (c.nodes.empty()) root.fail("nodes", "expected at least one node");
    std::sort(c.nodes.begin(), c.nodes.end(),
              [](const PeerEntry& a, const PeerEntry& b) { return a.name < b.name; });
    bool known = std::any_of(c.nodes.begin(), c.nodes.end(),
                             [&](const PeerEntry& n) { return n.name == c.node; });
    if (!known) {
        std::string names;
        for (const PeerEntry& n : c.nodes) names += (names.empty() ? "" : ", ") + n.name;
        if (node_override.empty())
            root.fail("node", fmt::format("\"{}\" is not one of nodes ({})", c.node, names));
        throw ConfigError(
            fmt::format("--node {}: not one of the nodes in {} ({})", c.node, path, names));
    }

    c.state_dir = root.string_or("state_dir", "/var/lib/storkit");
    if (c.state_dir[0] != '/') root.fail("state_dir", "expected an absolute path");

    ConfigNode d = root.section("deadlines");
    d.allow_only({"tick_s", "peer_s", "stop_s"});
    c.tick = seconds_to_ms(d.positive_or("tick_s", 45));
    c.peer = seconds_to_ms(d.positive_or("peer_s", 5));
    c.stop = seconds_to_ms(d.positive_or("stop_s", 60));
    if (c.peer >= c.tick)
        d.fail("peer_s", "must be shorter than deadlines.tick_s, or no tick could finish");
    ConfigNode l = root.section("lease");
    l.allow_only({"ticks", "tick_s"});
    c.lease_ticks = static_cast<int>(l.integer_or("ticks", 3, 2, 1000));
    c.lease_tick_s = l.positive_or("tick_s", 60);
    c.allow_unknown_peers = root.boolean_or("allow_start_with_unknown_peers", false);
    // Validate the storage section now, so a bad one fails before anything is touched.
    ConfigNode storage = root.object("storage");
    storage.string("backend");
    return c;
}

}  // namespace storkit
