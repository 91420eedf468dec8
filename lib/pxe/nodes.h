// Internal to libstorkit: what pxe-provision's boot, status and discover share.
#pragma once

#include <optional>
#include <string>

#include "core/statefile.h"
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

// The nodes with their BMCs and learned MACs, without pool addresses: for powering them.
inline Inventory load_power_inventory(const PxeConfig& cfg) {
    return inventory_nodes(cfg, read_node_table(node_table_path(cfg.pxe_state())));
}

// The lock that guards the node table while it is read and rewritten (none for a dry run, which
// writes nothing). Throws LockedError (exit 75) while another run holds it.
inline std::optional<FileLock> lock_node_table(const PxeConfig& cfg, bool dry_run) {
    std::optional<FileLock> lock;
    if (dry_run) return lock;
    make_dirs(cfg.pxe_state());
    lock.emplace(FileLock::try_acquire(cfg.pxe_state() + "/lock"));
    return lock;
}

}  // namespace storkit
