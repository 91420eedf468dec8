#include "pxe/inventory.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"

namespace storkit {

using nlohmann::json;

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

Inventory inventory_nodes(const PxeConfig& cfg, const std::vector<NodeEntry>& table) {
    std::unordered_map<std::string, const NodeEntry*> previous;
    previous.reserve(table.size());
    for (const NodeEntry& t : table) previous.emplace(t.name, &t);
    const std::vector<NodeEntry>& specs = cfg.nodes ? *cfg.nodes : table;

    Inventory inv;
    inv.nodes.reserve(specs.size());
    std::unordered_set<std::string> macs;
    for (const NodeEntry& s : specs)
        if (cfg.nodes && !s.mac.empty()) macs.insert(s.mac);
    for (const NodeEntry& s : specs) {
        InventoryRow n{s.name, s.bmc, s.mac, 0, s.enrolled_at, s.order};
        auto prev = previous.find(s.name);
        const NodeEntry* p = prev == previous.end() ? nullptr : prev->second;
        if (p && n.enrolled_at == 0) n.enrolled_at = p->enrolled_at;
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
    return inv;
}

Inventory build_inventory(const PxeConfig& cfg, const std::vector<NodeEntry>& table) {
    std::unordered_map<std::string, const NodeEntry*> previous;
    previous.reserve(table.size());
    for (const NodeEntry& t : table) previous.emplace(t.name, &t);
    Inventory inv = inventory_nodes(cfg, table);
    std::unordered_set<Ipv4> taken{cfg.server};
    if (cfg.gateway) taken.insert(*cfg.gateway);
    for (const InventoryRow& n : inv.nodes)
        if (n.ip != 0) taken.insert(n.ip);  // the config's fixed addresses
    std::vector<InventoryRow*> unassigned;
    for (InventoryRow& n : inv.nodes)
        if (n.ip == 0) unassigned.push_back(&n);
    // Stable order: BMC address (nodes without one last), then name.
    std::stable_sort(
        unassigned.begin(), unassigned.end(), [](const InventoryRow* a, const InventoryRow* b) {
            if (a->bmc.has_value() != b->bmc.has_value()) return a->bmc.has_value();
            return a->bmc && *a->bmc != *b->bmc ? *a->bmc < *b->bmc : a->name < b->name;
        });
    // Previous addresses first, so that a new node never takes an address someone holds.
    std::vector<InventoryRow*> fresh;
    for (InventoryRow* n : unassigned) {
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
    for (InventoryRow* n : fresh) {
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

std::vector<size_t> boot_order(const std::vector<InventoryRow>& nodes) {
    std::vector<size_t> idx(nodes.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    auto rank = [&](size_t i) {
        const InventoryRow& n = nodes[i];
        return std::make_tuple(n.order > 0         ? 0
                               : n.enrolled_at > 0 ? 1
                                                   : 2,
                               n.order > 0 ? static_cast<double>(n.order) : n.enrolled_at);
    };
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return rank(a) < rank(b); });
    return idx;
}

std::vector<NodeEntry> node_table_entries(const std::vector<InventoryRow>& nodes) {
    std::vector<NodeEntry> out;
    out.reserve(nodes.size());
    for (const InventoryRow& n : nodes)
        out.push_back({n.name, n.bmc, n.mac, n.ip, n.enrolled_at, 0});
    return out;
}

}  // namespace storkit
