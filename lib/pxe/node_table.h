// pxe-provision's node table, <pxe state>/nodes.json:
//   {"nodes": {"<name>": {"bmc": "198.18.64.11", "mac": "52:54:00:00:00:01",
//                         "ip": "198.18.0.100", "enrolled_at": 1800000000.5}}}
// with every field optional. `discover` adds nodes found by their BMC, `boot` the MAC it learned
// from a node's first lease, `prepare` every node's data address; pxe-report reads it to join
// leases with nodes. When the config has no "nodes", the table's nodes are the nodes. Every
// writer holds <pxe state>/lock (a FileLock) while it reads and rewrites the table.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/netaddr.h"

namespace storkit {

// Values of template variables: (index into PxeConfig::var_names, value), in index order.
using TemplateValues = std::vector<std::pair<size_t, std::string>>;

// What the config sets for a node (nodes.NAME) or a group of nodes (groups.NAME) besides
// addresses: its IPMI login and template variables. The node table holds none of it.
struct NodeSettings {
    std::string bmc_user;           // empty: the group's, else bmc.user
    std::string bmc_password_file;  // empty: the group's, else bmc.password_file
    TemplateValues vars;            // over the group's, over install.vars
};

// A node as the config or the node table names it; what is absent is learned or assigned later.
struct NodeEntry {
    std::string name;
    std::optional<Ipv4> bmc;
    std::string mac;  // normalized, or empty
    std::optional<Ipv4> ip;
    double enrolled_at = 0;  // when `pxe-provision enroll` added it (0: never enrolled)
    long order = 0;          // nodes.NAME.order in the config (0: none)
    std::string group = {};  // nodes.NAME.group in the config (empty: none)
    NodeSettings settings = {};
};

// Whether `name` can be a node name: a DNS label of lower-case letters, digits and hyphens.
bool valid_node_name(const std::string& name);

// The table's path in the pxe state directory.
std::string node_table_path(const std::string& pxe_state_dir);

// Parses the table's text, in name order. A text without "nodes" is an empty table. Throws
// Error naming `path` (and the node) on anything else that is not a node table.
std::vector<NodeEntry> parse_node_table(const std::string& text, const std::string& path);

// The table as text, one node per line.
std::string node_table_text(const std::vector<NodeEntry>& nodes);

// The table at `path`, empty when the file does not exist. Throws Error as parse_node_table.
std::vector<NodeEntry> read_node_table(const std::string& path);

// Replaces the table at `path` atomically.
void write_node_table(const std::string& path, const std::vector<NodeEntry>& nodes);

}  // namespace storkit
