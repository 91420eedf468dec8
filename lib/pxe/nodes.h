// Internal to libstorkit: what pxe-provision's boot, status and discover share.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/statefile.h"
#include "pxe/config.h"
#include "pxe/inventory.h"

namespace storkit {

inline std::string node_table_file(const PxeConfig& cfg) {
    return cfg.pxe_state() + "/nodes.json";
}
inline std::string boot_state_file(const PxeConfig& cfg) {
    return cfg.pxe_state() + "/boot.json";
}

// The nodes as prepare sees them: the config's (or the node table's), with learned MACs.
inline Inventory load_inventory(const PxeConfig& cfg) {
    std::string path = node_table_file(cfg);
    std::optional<std::string> text = read_file(path);
    return build_inventory(cfg, text ? parse_node_table(*text, path) : std::vector<NodeSpec>{});
}

// The node table as JSON, to change a node in place (keeping what prepare wrote).
inline nlohmann::json load_node_table_json(const PxeConfig& cfg) {
    std::string path = node_table_file(cfg);
    std::optional<std::string> text = read_file(path);
    if (!text) return {{"nodes", nlohmann::json::object()}};
    parse_node_table(*text, path);  // throws a clear error on a broken table
    return nlohmann::json::parse(*text);
}

}  // namespace storkit
