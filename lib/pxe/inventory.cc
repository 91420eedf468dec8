#include "pxe/inventory.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"

namespace storkit {

using nlohmann::json;

std::vector<NodeSpec> parse_node_table(const std::string& text, const std::string& path) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        throw Error(
            fmt::format("{}: node table is not valid JSON (remove it to start over)", path));
    }
    std::vector<NodeSpec> out;
    if (!j.is_object() || !j.contains("nodes") || !j["nodes"].is_object())
        throw Error(fmt::format("{}: node table has no \"nodes\" object", path));
    const json& nodes = j["nodes"];
    out.reserve(nodes.size());
    for (auto it = nodes.begin(); it != nodes.end(); ++it) {
        auto bad = [&](const std::string& what) {
            return Error(fmt::format("{}: node {}: {}", path, it.key(), what));
        };
        if (!valid_node_name(it.key()) || !it.value().is_object()) throw bad("invalid entry");
        NodeSpec n;
        n.name = it.key();
        const json& v = it.value();
        auto text_of = [&](const char* key) -> const std::string* {
            auto f = v.find(key);
            if (f == v.end()) return nullptr;
            if (!f->is_string()) throw bad(fmt::format("\"{}\" is not a string", key));
            return f->get_ptr<const std::string*>();
        };
        if (const std::string* s = text_of("bmc")) {
            n.bmc = parse_ipv4(*s);
            if (!n.bmc) throw bad(fmt::format("bmc \"{}\" is not an IPv4 address", *s));
        }
        if (const std::string* s = text_of("mac")) {
            std::optional<std::string> mac = normalize_mac(*s);
            if (!mac) throw bad(fmt::format("mac \"{}\" is not a MAC address", *s));
            n.mac = std::move(*mac);
        }
        if (const std::string* s = text_of("ip")) {
            n.ip = parse_ipv4(*s);
            if (!n.ip) throw bad(fmt::format("ip \"{}\" is not an IPv4 address", *s));
        }
        out.push_back(std::move(n));
    }
    return out;  // sorted by name: json objects are ordered maps
}

std::string node_table_json(const std::vector<Node>& nodes) {
    // One node per line, by hand: node names, addresses and MACs need no JSON escaping, and
    // this runs for every node on every run.
    std::string out = "{\"nodes\": {";
    out.reserve(nodes.size() * 96 + 16);
    for (size_t i = 0; i < nodes.size(); ++i) {
        const Node& n = nodes[i];
        out += i ? ",\n  \"" : "\n  \"";
        out += n.name;
        out += "\": {";
        if (n.bmc) out += "\"bmc\": \"" + ipv4_string(*n.bmc) + "\", ";
        if (!n.mac.empty()) out += "\"mac\": \"" + n.mac + "\", ";
        out += "\"ip\": \"" + ipv4_string(n.ip) + "\"}";
    }
    out += "\n}}\n";
    return out;
}

namespace {

// Hands out the lowest free pool addresses, upwards.
class PoolCursor {
  public:
    PoolCursor(const AddressRange& pool, const std::unordered_set<Ipv4>& taken)
        : pool_(pool), taken_(taken), next_(pool.first) {}
    std::optional<Ipv4> next() {
        while (!done_ && taken_.count(next_)) advance();
        if (done_) return std::nullopt;
        Ipv4 a = next_;
        advance();
        return a;
    }

  private:
    void advance() {
        if (next_ == pool_.last)
            done_ = true;
        else
            ++next_;
    }
    const AddressRange& pool_;
    const std::unordered_set<Ipv4>& taken_;
    Ipv4 next_;
    bool done_ = false;
};

}  // namespace

Inventory build_inventory(const PxeConfig& cfg, const std::vector<NodeSpec>& table) {
    std::unordered_map<std::string, const NodeSpec*> previous;
    previous.reserve(table.size());
    for (const NodeSpec& t : table) previous.emplace(t.name, &t);
    const std::vector<NodeSpec>& specs = cfg.nodes ? *cfg.nodes : table;

    Inventory inv;
    inv.nodes.reserve(specs.size());
    std::unordered_set<Ipv4> taken{cfg.server};
    if (cfg.gateway) taken.insert(*cfg.gateway);
    std::unordered_set<std::string> macs;
    for (const NodeSpec& s : specs)
        if (cfg.nodes && s.ip) taken.insert(*s.ip);
    for (const NodeSpec& s : specs)
        if (cfg.nodes && !s.mac.empty()) macs.insert(s.mac);

    std::vector<Node*> unassigned;
    for (const NodeSpec& s : specs) {
        Node n{s.name, s.bmc, s.mac, 0};
        auto prev = previous.find(s.name);
        const NodeSpec* p = prev == previous.end() ? nullptr : prev->second;
        if (cfg.nodes && p && n.mac.empty() && !p->mac.empty()) {
            // A learned MAC, unless the config gives it to another node.
            if (macs.insert(p->mac).second)
                n.mac = p->mac;
            else
                inv.notes.push_back(
                    fmt::format("node {}: learned MAC {} now belongs to another "
                                "node; dropped",
                                s.name, p->mac));
        }
        if (!cfg.nodes && !n.mac.empty() && !macs.insert(n.mac).second) {
            inv.notes.push_back(
                fmt::format("node {}: MAC {} is also another node's; dropped", s.name, n.mac));
            n.mac.clear();
        }
        if (cfg.nodes && s.ip) n.ip = *s.ip;
        inv.nodes.push_back(std::move(n));
    }
    for (Node& n : inv.nodes)
        if (n.ip == 0) unassigned.push_back(&n);
    // Stable order: BMC address (nodes without one last), then name.
    std::stable_sort(unassigned.begin(), unassigned.end(), [](const Node* a, const Node* b) {
        if (a->bmc.has_value() != b->bmc.has_value()) return a->bmc.has_value();
        return a->bmc && *a->bmc != *b->bmc ? *a->bmc < *b->bmc : a->name < b->name;
    });
    // Previous addresses first, so that a new node never takes an address someone holds.
    std::vector<Node*> fresh;
    for (Node* n : unassigned) {
        auto prev = previous.find(n->name);
        std::optional<Ipv4> old = prev == previous.end() ? std::nullopt : prev->second->ip;
        if (old && cfg.pool.contains(*old) && taken.insert(*old).second) {
            n->ip = *old;
        } else {
            if (old)
                inv.notes.push_back(
                    fmt::format("node {}: address {} is no longer free in the "
                                "pool; assigning another",
                                n->name, ipv4_string(*old)));
            fresh.push_back(n);
        }
    }
    PoolCursor cursor(cfg.pool, taken);
    for (Node* n : fresh) {
        std::optional<Ipv4> a = cursor.next();
        if (!a)
            throw ConfigError(fmt::format(
                "{}: key 'data.pool': {} has {} addresses, too few for {} nodes without a fixed "
                "ip",
                cfg.path, cfg.pool.str(), cfg.pool.size(), unassigned.size()));
        n->ip = *a;
    }
    return inv;
}

}  // namespace storkit
