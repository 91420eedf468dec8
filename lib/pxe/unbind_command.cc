#include "pxe/unbind_command.h"

#include <algorithm>

#include "core/error.h"
#include "core/statefile.h"
#include "pxe/boot_plan.h"
#include "pxe/nodes.h"
#include "pxe/state.h"

namespace storkit {

void pxe_unbind_nodes(const CommonOptions& common, const std::vector<std::string>& names,
                      Report& report) {
    PxeConfig cfg = load_pxe_config(common.config, PxeConfigParts::kPower);
    std::optional<FileLock> lock = lock_node_table(cfg, common.dry_run);
    std::string table_path = node_table_path(cfg.pxe_state());
    std::vector<NodeEntry> table = read_node_table(table_path);
    Inventory inv = load_power_inventory(cfg);
    std::vector<std::pair<std::string, std::string>> unbound;  // node, MAC
    for (const std::string& name : names) {
        auto row = std::find_if(inv.nodes.begin(), inv.nodes.end(),
                                [&](const InventoryRow& r) { return r.name == name; });
        if (row == inv.nodes.end())
            throw ConfigError(fmt::format("unbind: {} is no node of {}", name, cfg.path));
        const NodeEntry* given = cfg.node(name);
        if (given && !given->mac.empty())
            throw ConfigError(fmt::format(
                "unbind: node {}: its MAC {} is given by {} (nodes.{}.mac): change it there", name,
                given->mac, cfg.path, name));
        auto entry = std::find_if(table.begin(), table.end(),
                                  [&](const NodeEntry& e) { return e.name == name; });
        if (entry == table.end() || entry->mac.empty())
            throw ConfigError(fmt::format("unbind: node {} has no learned MAC", name));
        unbound.emplace_back(name, entry->mac);
    }

    report.data["subcommand"] = "unbind";
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [name, mac] : unbound) {
        list.push_back({{"node", name}, {"mac", mac}});
        report.line(
            fmt::format("{}{} unbound from {}", common.dry_run ? "would have " : "", name, mac));
    }
    report.data["unbound"] = list;
    if (common.dry_run) return;

    PxeState state(cfg.pxe_state());
    DhcpLeaseTable leases;
    {
        FileLock state_lock = state.lock();
        leases = state.leases();
    }
    BootState boot = read_boot_state(boot_state_file(cfg));
    double now = now_seconds();
    for (const auto& [name, mac] : unbound) {
        for (NodeEntry& e : table)
            if (e.name == name) e.mac.clear();
        boot.nodes.erase(name);
        auto lease = leases.leases().find(mac);
        boot.unclaimed[mac] = {lease == leases.leases().end() ? "" : lease->second.ip, now,
                               fmt::format("unbound from {} (pxe-provision unbind)", name)};
    }
    // The boot run first: a crash in between leaves the MAC unclaimed and still in the node
    // table, which the next unbind finishes; never a MAC free to bind by order.
    write_file_atomic(boot_state_file(cfg), boot.to_json().dump(1) + "\n");
    write_node_table(table_path, table);
    report.changed = true;
}

}  // namespace storkit
