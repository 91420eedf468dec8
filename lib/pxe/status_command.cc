#include "pxe/status_command.h"

#include <fmt/chrono.h>
#include <time.h>

#include <map>
#include <set>

#include "bmc/discover.h"
#include "core/error.h"
#include "core/log.h"
#include "pxe/boot_plan.h"
#include "pxe/nodes.h"
#include "pxe/state.h"

namespace storkit {

namespace {

using nlohmann::json;

std::string text(const json& v) {
    if (v.is_string() && !v.get<std::string>().empty()) return v.get<std::string>();
    return "-";
}

// The time of day in UTC; "-" for none, and for one beyond the calendar (a damaged state file).
std::string clock_time(const json& t) {
    if (!t.is_number() || t.get<double>() <= 0) return "-";
    try {
        return fmt::format("{:%H:%M:%SZ}", fmt::gmtime(static_cast<time_t>(t.get<double>())));
    } catch (const fmt::format_error&) {
        return "-";
    }
}

// The table as a person reads it: one row per node, then the leases of no node.
std::string table_text(const json& table) {
    auto row = [](const std::vector<std::string>& f) {
        return fmt::format("{:<12} {:<15} {:<17} {:<15} {:<9} {:<10} {:<10} {}\n", f[0], f[1], f[2],
                           f[3], f[4], f[5], f[6], f[7]);
    };
    std::string out = row({"NODE", "BMC", "MAC", "DHCP-IP", "POWERED", "BOOT", "PHASE", "RESULT"});
    for (const json& n : table["nodes"])
        out += row({text(n["name"]), text(n["bmc"]), text(n["mac"]), text(n["ip"]),
                    clock_time(n["powered_at"]), text(n["boot"]), text(n.value("phase", json())),
                    text(n.value("result", json()))});
    for (const json& l : table["unbound"])
        out += row({"-", "-", text(l["mac"]), text(l["ip"]), "-", "-", text(l["phase"]), "-"});
    if (std::string refused = refused_summary(table); !refused.empty()) out += refused + "\n";
    return out;
}

// What pxe-monitor said of each node's current install (its feedback file): "result" (
// succeeded, failed, timed-out), "result_phase" and "result_detail" on the row, null while it
// has said nothing since the node's power-on. A line that cannot be read is skipped.
void add_results(json& table, const std::string& feedback) {
    std::map<std::string, json> last;
    std::string text = read_file(feedback).value_or("");
    size_t pos = 0;
    while (pos < text.size()) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string::npos) break;
        json e = json::parse(text.substr(pos, eol - pos), nullptr, false);
        pos = eol + 1;
        if (!e.is_object() || !e["node"].is_string() || !e["time"].is_number() ||
            e.value("result", "") == "retry")
            continue;
        last[e["node"].get<std::string>()] = e;
    }
    for (json& row : table["nodes"]) {
        auto it = last.find(row["name"].get<std::string>());
        bool current = it != last.end() && row["powered_at"].is_number() &&
                       it->second["time"].get<double>() >= row["powered_at"].get<double>();
        row["result"] = current ? it->second["result"] : json();
        row["result_phase"] = current ? it->second["phase"] : json();
        row["result_detail"] = current ? it->second["detail"] : json();
    }
}

}  // namespace

void pxe_status_command(const CommonOptions& common, Report& report) {
    PxeConfig cfg = load_pxe_config(common.config);
    Inventory inv = load_inventory(cfg);
    PxeState state(cfg.pxe_state());
    BootState boot = read_boot_state(boot_state_file(cfg));
    DhcpLeaseTable leases;
    if (read_file(state.path("events.jsonl")) || read_file(state.path("leases.json"))) {
        FileLock lock = state.lock();
        leases = state.leases();
    }
    json table = joined_table(node_table_entries(inv.nodes), leases, now_seconds());
    add_boot_columns(table, boot);
    add_results(table, cfg.monitor_feedback);
    report.data["subcommand"] = "status";
    report.data["table"] = table;
    report.msg = fmt::format("{} nodes, {} leases of no node", table["nodes"].size(),
                             table["unbound"].size());
    if (!common.json) report.text = table_text(table);  // not built when nobody reads it
}

void pxe_discover_command(const CommonOptions& common, Report& report) {
    PxeConfig cfg = load_pxe_config(common.config);
    if (cfg.bmc_subnet.prefix < kMinSearchPrefix)
        throw ConfigError(
            fmt::format("{}: key 'bmc.subnet': {} is larger than discover searches "
                        "(/{}); list the nodes instead",
                        cfg.path, cfg.bmc_subnet.str(), kMinSearchPrefix));
    DiscoverOptions d;
    d.timeout = std::chrono::milliseconds(std::max<long>(cfg.bmc_timeout_ms, 1000));
    std::vector<FoundBmc> found = discover_bmcs(cfg.bmc_subnet, d);
    report.data["subcommand"] = "discover";
    json list = json::array();
    for (const FoundBmc& b : found) list.push_back(b.to_json());
    report.data["bmcs"] = list;
    if (cfg.nodes) {
        report.msg = fmt::format(
            "{} BMCs answered; the config lists the nodes, so the node table "
            "is left alone",
            found.size());
        for (const FoundBmc& b : found) report.line(fmt::format("{} {}", b.name, b.host()));
        return;
    }
    std::optional<FileLock> lock = lock_node_table(cfg, common.dry_run);
    std::string table_path = node_table_path(cfg.pxe_state());
    std::vector<NodeEntry> table = read_node_table(table_path);
    std::set<Ipv4> known;
    std::set<std::string> names;
    for (const NodeEntry& n : table) {
        names.insert(n.name);
        if (n.bmc) known.insert(*n.bmc);
    }
    json added = json::array();
    for (const FoundBmc& b : found) {
        if (known.count(b.address) || names.count(b.name)) continue;
        table.push_back({b.name, b.address, "", std::nullopt});
        added.push_back(b.name);
        report.line(
            fmt::format("{} {} {}", common.dry_run ? "would add" : "added", b.name, b.host()));
    }
    report.data["added"] = added;
    report.changed = !added.empty() && !common.dry_run;
    if (report.changed) write_node_table(table_path, table);
    report.msg = fmt::format("{} BMCs answered, {} new nodes", found.size(), added.size());
}

void pxe_enroll_command(const CommonOptions& common, const std::string& name,
                        const std::string& bmc_text, const std::string& mac_text, Report& report) {
    PxeConfig cfg = load_pxe_config(common.config);
    if (cfg.nodes)
        throw ConfigError(
            fmt::format("{}: the config lists the nodes: add {} to its \"nodes\"", cfg.path, name));
    if (!valid_node_name(name))
        throw ConfigError(fmt::format(
            "enroll {}: a node name is a DNS label: a-z, 0-9 and -, at most 63 characters", name));
    std::optional<Ipv4> bmc = parse_ipv4(bmc_text);
    if (!bmc)
        throw ConfigError(fmt::format("enroll {}: --bmc {}: not an IPv4 address", name, bmc_text));
    if (!cfg.bmc_subnet.contains(*bmc) || cfg.bmc_subnet.is_reserved(*bmc))
        throw ConfigError(fmt::format("enroll {}: --bmc {}: not a host of bmc.subnet {}", name,
                                      bmc_text, cfg.bmc_subnet.str()));
    std::string mac;
    if (!mac_text.empty()) {
        std::optional<std::string> m = normalize_mac(mac_text);
        if (!m)
            throw ConfigError(
                fmt::format("enroll {}: --mac {}: not a MAC address", name, mac_text));
        mac = *m;
    }
    std::optional<FileLock> lock = lock_node_table(cfg, common.dry_run);
    std::string table_path = node_table_path(cfg.pxe_state());
    std::vector<NodeEntry> table = read_node_table(table_path);
    report.data["subcommand"] = "enroll";
    report.data["node"] = name;
    for (NodeEntry& n : table) {
        if (n.name == name) {
            bool same = n.bmc == bmc && (mac.empty() || n.mac == mac);
            if (!same)
                throw Error(fmt::format(
                    "enroll {}: already enrolled with BMC {}{}: remove it from {} first", name,
                    n.bmc ? ipv4_string(*n.bmc) : "-", n.mac.empty() ? "" : ", MAC " + n.mac,
                    table_path));
            report.msg = fmt::format("{} is enrolled (BMC {})", name, bmc_text);
            return;
        }
        if (n.bmc == bmc)
            throw Error(fmt::format("enroll {}: BMC {} is node {}'s", name, bmc_text, n.name));
        if (!mac.empty() && n.mac == mac)
            throw Error(fmt::format("enroll {}: MAC {} is node {}'s", name, mac, n.name));
    }
    NodeEntry e{name, bmc, mac, std::nullopt};
    e.enrolled_at = now_seconds();
    size_t before = std::count_if(table.begin(), table.end(),
                                  [](const NodeEntry& n) { return n.enrolled_at > 0; });
    report.changed = !common.dry_run;
    report.msg = fmt::format("{} {} (BMC {}{}), number {} in the boot order",
                             common.dry_run ? "would enroll" : "enrolled", name, bmc_text,
                             mac.empty() ? "" : ", MAC " + mac, before + 1);
    if (common.dry_run) return;
    table.push_back(e);
    write_node_table(table_path, table);
}

}  // namespace storkit
