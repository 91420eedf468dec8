#include <fmt/format.h>

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

NodeEntry load_node(const PxeConfig& c, const ConfigNode& root, const ConfigNode& n,
                    const std::string& name, std::span<const std::string_view> keys,
                    SeenValues& seen) {
    n.allow_only(keys);
    NodeEntry spec;
    spec.name = name;
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
        if (root.ok("data.subnet")) require_host(n, "ip", *spec.ip, c.data_subnet, "data.subnet");
        bool is_server = root.ok("server.address") && *spec.ip == c.server;
        bool is_gateway = root.ok("data.gateway") && c.gateway && *spec.ip == *c.gateway;
        if (is_server || is_gateway)
            n.problem("ip", fmt::format("{} is the server's address or the gateway",
                                        ipv4_string(*spec.ip)));
        if (n.ok("ip")) check_unique(n, c, "ip", *spec.ip, "", seen.ips);
    }
    return spec;
}

}  // namespace

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
