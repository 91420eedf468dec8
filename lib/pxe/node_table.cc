#include "pxe/node_table.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/statefile.h"

namespace storkit {

using nlohmann::json;

bool valid_node_name(const std::string& n) {
    if (n.empty() || n.size() > 63 || n.front() == '-' || n.back() == '-') return false;
    return std::all_of(n.begin(), n.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

std::string node_table_path(const std::string& pxe_state_dir) {
    return pxe_state_dir + "/nodes.json";
}

namespace {

NodeEntry parse_entry(const std::string& name, const json& v, const std::string& path) {
    auto bad = [&](const std::string& what) {
        return Error(fmt::format("{}: node {}: {}", path, name, what));
    };
    if (!valid_node_name(name) || !v.is_object()) throw bad("invalid entry");
    auto text_of = [&](const char* key) -> const std::string* {
        auto f = v.find(key);
        if (f == v.end()) return nullptr;
        if (!f->is_string()) throw bad(fmt::format("\"{}\" is not a string", key));
        return f->get_ptr<const std::string*>();
    };
    NodeEntry n;
    n.name = name;
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
    if (auto f = v.find("enrolled_at"); f != v.end()) {
        if (!f->is_number() || f->get<double>() < 0)
            throw bad("\"enrolled_at\" is not a time in seconds");
        n.enrolled_at = f->get<double>();
    }
    return n;
}

}  // namespace

std::vector<NodeEntry> parse_node_table(const std::string& text, const std::string& path) {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded())
        throw Error(
            fmt::format("{}: node table is not valid JSON (remove it to start over)", path));
    if (!j.is_object()) throw Error(fmt::format("{}: node table is not a JSON object", path));
    std::vector<NodeEntry> out;
    auto nodes = j.find("nodes");
    if (nodes == j.end()) return out;
    if (!nodes->is_object())
        throw Error(fmt::format("{}: node table has no \"nodes\" object", path));
    out.reserve(nodes->size());
    for (auto it = nodes->begin(); it != nodes->end(); ++it)
        out.push_back(parse_entry(it.key(), it.value(), path));
    return out;  // in name order: json objects are ordered maps
}

std::string node_table_text(const std::vector<NodeEntry>& nodes) {
    std::vector<const NodeEntry*> sorted;
    sorted.reserve(nodes.size());
    for (const NodeEntry& n : nodes) sorted.push_back(&n);
    std::sort(sorted.begin(), sorted.end(),
              [](const NodeEntry* a, const NodeEntry* b) { return a->name < b->name; });
    std::string out = "{\"nodes\": {";
    out.reserve(nodes.size() * 96 + 16);
    for (size_t i = 0; i < sorted.size(); ++i) {
        const NodeEntry& n = *sorted[i];
        json entry = json::object();
        if (n.bmc) entry["bmc"] = ipv4_string(*n.bmc);
        if (!n.mac.empty()) entry["mac"] = n.mac;
        if (n.ip) entry["ip"] = ipv4_string(*n.ip);
        if (n.enrolled_at > 0) entry["enrolled_at"] = n.enrolled_at;
        out += i ? ",\n  " : "\n  ";
        out += json(n.name).dump() + ": " + entry.dump();
    }
    out += "\n}}\n";
    return out;
}

std::vector<NodeEntry> read_node_table(const std::string& path) {
    std::optional<std::string> text = read_file(path);
    return text ? parse_node_table(*text, path) : std::vector<NodeEntry>{};
}

void write_node_table(const std::string& path, const std::vector<NodeEntry>& nodes) {
    write_file_atomic(path, node_table_text(nodes));
}

}  // namespace storkit
