// The nodes to install and their addresses: the BMC -> MAC -> data IP table, built from the
// config and pxe-provision's node table (node_table.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/netaddr.h"
#include "pxe/config.h"

namespace storkit {

// One node to serve, with its data address decided.
struct InventoryRow {
    std::string name;
    std::optional<Ipv4> bmc;
    std::string mac;  // empty until known: such a node gets no reservation and no boot files
    Ipv4 ip = 0;
    double enrolled_at = 0;  // from the node table
    long order = 0;          // from the config (0: none)
};

struct Inventory {
    std::vector<InventoryRow> nodes;  // sorted by name (boot_order gives the power-on order)
    std::vector<std::string> notes;   // e.g. a node whose previous address had to change
};

// The nodes to serve: the config's nodes (or the table's when the config names none). A MAC the
// config does not give comes from the table (learned from a lease). The address is the config's;
// else the node's previous one from the table while it is still a free pool address; else the
// lowest free pool address, handed out in order of BMC address, then name. So addresses stay put
// across reruns and when nodes are added or removed. Throws ConfigError naming data.pool when
// the pool has too few addresses.
Inventory build_inventory(const PxeConfig& cfg, const std::vector<NodeEntry>& table);

// The same nodes with their MACs, without pool addresses (a node's ip is the config's, else 0):
// what powering them needs, from a config read without its data network.
Inventory inventory_nodes(const PxeConfig& cfg, const std::vector<NodeEntry>& table);

// The order in which nodes are powered on: the config's nodes.NAME.order first (ascending),
// then by enrollment time (pxe-provision enroll: the order in which their configs arrived),
// then the rest by name. Indexes into `nodes`.
std::vector<size_t> boot_order(const std::vector<InventoryRow>& nodes);

// The node table's entries for `nodes`, as prepare writes them.
std::vector<NodeEntry> node_table_entries(const std::vector<InventoryRow>& nodes);

}  // namespace storkit
