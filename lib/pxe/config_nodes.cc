#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "pxe/config_parts.h"

namespace storkit::pxe_config {

namespace {

// Explicit node values must be unique: two nodes with one MAC, IP or BMC would fight over it.
// `seen` maps a value (an address, or a MAC as a number) to the index of the node that has it;
// `mac` is the MAC's text, empty for an address.
void check_unique(const ConfigNode& n, const PxeConfig& c, const std::string& key, uint64_t value,
                  std::string_view mac, std::unordered_map<uint64_t, size_t>& seen) {
    auto [it, fresh] = seen.emplace(value, c.nodes->size());
    if (fresh) return;
    std::string text = mac.empty() ? ipv4_string(static_cast<Ipv4>(value)) : std::string(mac);
    n.problem(key,
              fmt::format("{} is also the {} of node {}", text, key, (*c.nodes)[it->second].name));
}

uint64_t mac_number(const std::string& mac) {
    uint64_t v = 0;
    for (char ch : mac)
        if (ch != ':') v = v << 4 | static_cast<uint64_t>(ch <= '9' ? ch - '0' : ch - 'a' + 10);
    return v;
}

struct SeenValues {
    std::unordered_map<uint64_t, size_t> macs, ips, bmcs;
};

// What a group or a node sets for its nodes besides addresses.
NodeSettings load_settings(PxeConfig& c, const ConfigNode& n) {
    NodeSettings s;
    s.bmc_user = n.string_or("bmc_user", "");
    // Read by the power commands only, never by prepare.
    if (n.has("bmc_password_file")) s.bmc_password_file = abs_path(n, "bmc_password_file", "");
    s.vars = load_vars(c, n);
    return s;
}

std::string group_names(const PxeConfig& c) {
    std::vector<std::string_view> names;
    for (const NodeGroup& g : c.groups) names.push_back(g.name);
    return names.empty() ? "there are none" : fmt::format("known: {}", fmt::join(names, ", "));
}

NodeEntry load_node(PxeConfig& c, const ConfigNode& root, const ConfigNode& n,
                    const std::string& name, std::span<const std::string_view> keys,
                    SeenValues& seen) {
    n.allow_only(keys);
    NodeEntry spec;
    spec.name = name;
    if (n.has("group")) {
        spec.group = n.string("group");
        if (n.ok("group") && !c.group(spec.group) && root.ok("groups"))
            n.problem("group",
                      fmt::format("\"{}\" is no group of groups ({})", spec.group, group_names(c)));
    }
    spec.settings = load_settings(c, n);
    // The data network is read for every command but bmc-power and boot (PxeConfigParts).
    bool data = c.parts == PxeConfigParts::kAll;
    if (n.has("bmc")) {
        spec.bmc = address(n, "bmc");
        if (root.ok("bmc.subnet")) require_host(n, "bmc", *spec.bmc, c.bmc_subnet, "bmc.subnet");
        if (n.ok("bmc")) check_unique(n, c, "bmc", *spec.bmc, "", seen.bmcs);
    }
    if (n.has("mac")) {
        std::string text = n.string("mac");
        std::optional<std::string> mac = normalize_mac(text);
        if (!mac) n.problem("mac", fmt::format("\"{}\" is not a MAC address", text));
        spec.mac = mac.value_or("");
        if (mac) check_unique(n, c, "mac", mac_number(spec.mac), spec.mac, seen.macs);
    }
    if (n.has("order")) spec.order = n.integer_or("order", 0, 1, 1000000);
    if (n.has("ip")) {
        spec.ip = address(n, "ip");
        if (data && root.ok("data.subnet"))
            require_host(n, "ip", *spec.ip, c.data_subnet, "data.subnet");
        bool is_server = data && root.ok("server.address") && *spec.ip == c.server;
        bool is_gateway = data && root.ok("data.gateway") && c.gateway && *spec.ip == *c.gateway;
        if (is_server || is_gateway)
            n.problem("ip", fmt::format("{} is the server's address or the gateway",
                                        ipv4_string(*spec.ip)));
        if (n.ok("ip")) check_unique(n, c, "ip", *spec.ip, "", seen.ips);
    }
    return spec;
}

}  // namespace

void load_groups(PxeConfig& c, const ConfigNode& root, std::span<const std::string_view> keys) {
    if (!root.has("groups")) return;
    ConfigNode groups = root.object("groups");
    for (const std::string& name : groups.keys()) {  // sorted
        ConfigNode g = groups.object(name);
        g.allow_only(keys);
        if (!valid_node_name(name))
            groups.problem(name,
                           "a group name is a DNS label: a-z, 0-9 and -, at most 63 characters");
        c.groups.push_back({name, load_settings(c, g)});
    }
}

void load_nodes(PxeConfig& c, const ConfigNode& root, std::span<const std::string_view> keys) {
    if (!root.has("nodes")) return;
    ConfigNode nodes = root.object("nodes");
    std::vector<std::string> names = nodes.keys();  // sorted
    SeenValues seen;
    seen.macs.reserve(names.size());
    seen.ips.reserve(names.size());
    seen.bmcs.reserve(names.size());
    c.nodes.emplace();
    c.nodes->reserve(names.size());
    for (const std::string& name : names) {
        ConfigNode n = nodes.object(name);
        if (!valid_node_name(name))
            nodes.problem(name,
                          "a node name is a DNS label: a-z, 0-9 and -, at most 63 characters");
        c.nodes->push_back(load_node(c, root, n, name, keys, seen));
    }
}

}  // namespace storkit::pxe_config

namespace storkit {

const NodeEntry* PxeConfig::node(std::string_view name) const {
    if (!nodes) return nullptr;
    auto it = std::lower_bound(nodes->begin(), nodes->end(), name,
                               [](const NodeEntry& n, std::string_view v) { return n.name < v; });
    return it != nodes->end() && it->name == name ? &*it : nullptr;
}

const NodeGroup* PxeConfig::group(std::string_view name) const {
    auto it = std::lower_bound(groups.begin(), groups.end(), name,
                               [](const NodeGroup& g, std::string_view v) { return g.name < v; });
    return it != groups.end() && it->name == name ? &*it : nullptr;
}

BmcLoginSource PxeConfig::bmc_login(std::string_view name) const {
    BmcLoginSource login{bmc_user, bmc_password_file, "bmc.password_file"};
    const NodeEntry* n = node(name);
    if (!n) return login;
    auto take = [&login](const NodeSettings& s, const std::string& key) {
        if (!s.bmc_user.empty()) login.user = s.bmc_user;
        if (s.bmc_password_file.empty()) return;
        login.password_file = s.bmc_password_file;
        login.password_key = key + ".bmc_password_file";
    };
    if (const NodeGroup* g = group(n->group)) take(g->settings, "groups." + g->name);
    take(n->settings, "nodes." + n->name);
    return login;
}

}  // namespace storkit
