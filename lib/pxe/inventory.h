// The nodes to install and their addresses: the BMC -> MAC -> data IP table.
//
// The table lives in <state_dir>/pxe/nodes.json as
//   {"nodes": {"<name>": {"bmc": "198.18.64.11", "mac": "52:54:00:00:00:01", "ip":
//   "198.18.0.100"}}}
// (every field optional). Discovery writes nodes and learned MACs into it; `prepare` adds the
// data address of every node. When the config has no "nodes", the table's nodes are the nodes.
// Every writer holds <state_dir>/pxe/lock (a FileLock) while it reads and rewrites the table.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/netaddr.h"
#include "pxe/config.h"

namespace storkit {

struct Node {
    std::string name;
    std::optional<Ipv4> bmc;
    std::string mac;  // empty until known: such a node gets no reservation and no boot files
    Ipv4 ip = 0;
};

struct Inventory {
    std::vector<Node> nodes;         // sorted by name
    std::vector<std::string> notes;  // e.g. a node whose previous address had to change
};

// Parses the table file's text. Throws Error naming `path` and the node on bad content.
std::vector<NodeSpec> parse_node_table(const std::string& text, const std::string& path);
std::string node_table_json(const std::vector<Node>& nodes);

// The nodes to serve: the config's nodes (or the table's when the config names none). A MAC the
// config does not give comes from the table (learned from a lease). The address is the config's;
// else the node's previous one from the table while it is still a free pool address; else the
// lowest free pool address, handed out in order of BMC address, then name. So addresses stay put
// across reruns and when nodes are added or removed. Throws ConfigError naming data.pool when
// the pool has too few addresses.
Inventory build_inventory(const PxeConfig& cfg, const std::vector<NodeSpec>& table);

}  // namespace storkit
