// Internal to libstorkit: what pxe-provision's boot, status and discover share.
#pragma once

#include <optional>
#include <string>

#include "pxe/config.h"
#include "pxe/inventory.h"
#include "pxe/node_table.h"

namespace storkit {

inline std::string boot_state_file(const PxeConfig& cfg) {
    return cfg.pxe_state() + "/boot.json";
}

// The nodes as prepare sees them: the config's (or the node table's), with learned MACs.
inline Inventory load_inventory(const PxeConfig& cfg) {
    return build_inventory(cfg, read_node_table(node_table_path(cfg.pxe_state())));
}

}  // namespace storkit
