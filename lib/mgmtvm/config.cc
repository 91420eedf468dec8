#include "mgmtvm/config.h"

#include <algorithm>

#include "core/error.h"
#include "core/trust.h"
#include "mgmtvm/storage.h"
#include "mgmtvm/tick_budget.h"

namespace storkit {

namespace {

constexpr std::string_view kRootKeys[] = {
    "node",      "vm",        "nodes", "storage",
    "deadlines", "state_dir", "lease", "allow_start_with_unknown_peers",
    "placement"};
constexpr std::string_view kVmKeys[] = {"name", "domain_xml", "volume"};
constexpr std::string_view kNodeKeys[] = {"libvirt"};
constexpr std::string_view kDeadlineKeys[] = {"tick_s", "peer_s", "stop_s"};
constexpr std::string_view kLeaseKeys[] = {"ticks", "tick_s", "fencing"};

void load_vm(MgmtvmConfig& c, const ConfigNode& root) {
    ConfigNode vm = root.object("vm");
    vm.allow_only(kVmKeys);
    c.vm_name = vm.string("name");
    c.domain_xml = vm.string("domain_xml");
    if (c.domain_xml[0] != '/') vm.problem("domain_xml", "expected an absolute path");
    c.volume = vm.string_or("volume", "");
}

void load_nodes(MgmtvmConfig& c, const ConfigNode& root, const std::string& node_override,
                ConfigErrors& errors) {
    ConfigNode nodes = root.object("nodes");
    for (const std::string& name : nodes.keys()) {
        ConfigNode n = nodes.object(name);
        n.allow_only(kNodeKeys);
        c.nodes.push_back({name, n.string("libvirt")});
    }
    if (c.nodes.empty()) root.problem("nodes", "expected at least one node");
    std::sort(c.nodes.begin(), c.nodes.end(),
              [](const PeerEntry& a, const PeerEntry& b) { return a.name < b.name; });
    bool known = std::any_of(c.nodes.begin(), c.nodes.end(),
                             [&](const PeerEntry& n) { return n.name == c.node; });
    if (known || !root.ok("nodes")) return;
    std::vector<std::string_view> peers;
    for (const PeerEntry& n : c.nodes) peers.push_back(n.name);
    std::string names = fmt::format("{}", fmt::join(peers, ", "));
    if (node_override.empty())
        root.problem("node", fmt::format("\"{}\" is not one of nodes ({})", c.node, names));
    else
        errors.add("", fmt::format("--node {}: not one of the nodes in {} ({})", c.node,
                                   root.file(), names));
}

void load_timing(MgmtvmConfig& c, const ConfigNode& root) {
    ConfigNode d = root.section("deadlines");
    d.allow_only(kDeadlineKeys);
    c.tick = seconds_to_ms(d.positive_or("tick_s", 57, 3600));
    c.peer = seconds_to_ms(d.positive_or("peer_s", 3, 3600));
    c.stop = seconds_to_ms(d.positive_or("stop_s", 15, 3600));
    if (d.ok("tick_s") && d.ok("peer_s") && c.peer >= c.tick)
        d.problem("peer_s", "must be shorter than deadlines.tick_s, or no tick could finish");
    ConfigNode l = root.section("lease");
    l.allow_only(kLeaseKeys);
    c.lease_ticks = static_cast<int>(l.integer_or("ticks", 3, 2, 1000));
    c.lease_tick_s = l.positive_or("tick_s", 60, 3600);
    std::string fencing = l.string_or("fencing", "storage");
    if (fencing != "storage" && fencing != "none")
        l.problem("fencing", fmt::format("expected \"storage\" or \"none\", got \"{}\"", fencing));
    c.fencing_none = fencing == "none";
}

// A lease without fencing lets a takeover start the VM while a silent old holder's copy may
// still write: only when the config says so.
void check_fencing(const MgmtvmConfig& c, const ConfigNode& root, const Storage* storage) {
    if (!storage || !storage->supports_lease() || storage->supports_fence() || c.fencing_none)
        return;
    root.problem("storage",
                 "a lease without fencing could start a second copy of the VM "
                 "after a takeover: set storage.fence, or lease.fencing to \"none\" "
                 "to accept that risk");
}

}  // namespace

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
    // Every problem of the file is collected and reported at once, at the checkpoint.
    ConfigErrors errors;
    ConfigNode root = c.file.root(errors);
    root.allow_only(kRootKeys);
    c.node = node_override.empty() ? root.string("node") : node_override;
    load_vm(c, root);
    load_nodes(c, root, node_override, errors);
    c.state_dir = root.string_or("state_dir", "/var/lib/storkit");
    if (c.state_dir[0] != '/') root.problem("state_dir", "expected an absolute path");
    load_timing(c, root);
    c.allow_unknown_peers = root.boolean_or("allow_start_with_unknown_peers", false);
    std::string placement = root.string_or("placement", "sticky");
    if (placement != "sticky" && placement != "follow-master")
        root.problem(
            "placement",
            fmt::format("expected \"sticky\" or \"follow-master\", got \"{}\"", placement));
    c.sticky = placement == "sticky";
    // Build the storage backend once now (its constructor touches nothing), so that a bad
    // storage section is reported with the rest, before anything is touched.
    std::unique_ptr<Storage> storage =
        make_storage(root.object("storage"), {c.node, c.vm_name, c.volume});
    check_fencing(c, root, storage.get());
    // Deadlines that cannot fit leave a tick killed half way every time the storage is slow.
    ConfigNode deadlines = root.section("deadlines");
    bool timing_read = deadlines.ok("tick_s") && deadlines.ok("peer_s") && deadlines.ok("stop_s") &&
                       root.ok("storage.timeout_s");
    if (storage && timing_read) {
        std::string why = check_tick_budget(*storage, c);
        if (!why.empty()) deadlines.problem("tick_s", why);
    }
    errors.checkpoint();
    return c;
}

std::vector<ConfigSection> mgmtvm_config_sections() {
    std::vector<ConfigSection> sections = {{"", kRootKeys},
                                           {"vm", kVmKeys},
                                           {"nodes.NAME", kNodeKeys},
                                           {"deadlines", kDeadlineKeys},
                                           {"lease", kLeaseKeys}};
    for (const StorageBackend& b : storage_backends()) sections.push_back({"storage", b.keys});
    return sections;
}

}  // namespace storkit
