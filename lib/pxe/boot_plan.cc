#include "pxe/boot_plan.h"

#include <algorithm>
#include <array>
#include <set>

#include "core/error.h"
#include "core/json_integer.h"
#include "core/statefile.h"

namespace storkit {

namespace {

using nlohmann::json;

constexpr std::array<NodeBoot, 10> kAllStates = {
    NodeBoot::kPending,   NodeBoot::kWaiting,   NodeBoot::kBooted, NodeBoot::kBound,
    NodeBoot::kUnbound,   NodeBoot::kOffFailed, NodeBoot::kFailed, NodeBoot::kNoBmc,
    NodeBoot::kInstalled, NodeBoot::kRunning};

// How often a waiting node's leases are looked at.
constexpr double kBindPoll = 0.25;
// How long a single new MAC in a window must stay alone before it is bound: a second machine
// (or a second NIC) that booted at the same moment leases within this time as well.
constexpr double kBindSettle = 2.0;

NodeBootRecord record_of(const BootState& st, const std::string& name) {
    auto it = st.nodes.find(name);
    return it == st.nodes.end() ? NodeBootRecord{} : it->second;
}

bool may_power(const PlanEntry& n, const NodeBootRecord& r) {
    if (n.bmc.empty()) return false;
    if (r.state == NodeBoot::kPending) return true;
    // Bound during this run: it booted without boot files; once prepare has made its
    // reservation, it gets another power-on to install.
    return r.state == NodeBoot::kBound && n.reserved && !n.mac.empty();
}

// MACs some node has: from the config or the node table, or bound in this run.
std::set<std::string> taken_macs(const std::vector<PlanEntry>& nodes, const BootState& state) {
    std::set<std::string> taken;
    for (const PlanEntry& n : nodes)
        if (!n.mac.empty()) taken.insert(n.mac);
    for (const auto& [name, r] : state.nodes)
        if (!r.mac.empty()) taken.insert(r.mac);
    return taken;
}

// The MACs a node powered at `from` may be bound to: those that leased new within its window
// [from, to] (a MAC seen before belongs to some other machine; one that first showed up through
// dnsmasq replaying its lease file did not just boot), and unclaimed MACs that asked for a
// lease again in it. In MAC order, each with the time of that lease.
std::vector<std::pair<std::string, double>> window_macs(const DhcpLeaseTable& leases,
                                                        const BootState& state,
                                                        const std::set<std::string>& taken,
                                                        double from, double to) {
    std::vector<std::pair<std::string, double>> out;
    for (const auto& [mac, r] : leases.leases()) {
        if (taken.count(mac)) continue;
        auto u = state.unclaimed.find(mac);
        bool fresh = u == state.unclaimed.end() && r.first_was_add && r.first_seen >= from &&
                     r.first_seen <= to;
        bool again = u != state.unclaimed.end() && r.active && r.last_seen > u->second.time &&
                     r.last_seen >= from && r.last_seen <= to;
        if (fresh || again) out.emplace_back(mac, again ? r.last_seen : r.first_seen);
    }
    return out;
}

}  // namespace

const char* to_string(NodeBoot s) {
    switch (s) {
        case NodeBoot::kPending: return "pending";
        case NodeBoot::kWaiting: return "waiting";
        case NodeBoot::kBooted: return "booted";
        case NodeBoot::kBound: return "bound";
        case NodeBoot::kUnbound: return "unbound";
        case NodeBoot::kOffFailed: return "off-failed";
        case NodeBoot::kFailed: return "failed";
        case NodeBoot::kNoBmc: return "no-bmc";
        case NodeBoot::kInstalled: return "installed";
        case NodeBoot::kRunning: return "running";
    }
    return "?";
}

json BootState::to_json() const {
    json nodes_json = json::object();
    for (const auto& [name, r] : nodes)
        nodes_json[name] = {{"state", to_string(r.state)},
                            {"powered_at", r.powered_at},
                            {"power_ons", r.power_ons},
                            {"mac", r.mac},
                            {"ip", r.ip},
                            {"bound_at", r.bound_at},
                            {"given_up_at", r.given_up_at},
                            {"given_up", r.given_up},
                            {"result", r.result},
                            {"error", r.error}};
    json unclaimed_json = json::object();
    for (const auto& [mac, u] : unclaimed)
        unclaimed_json[mac] = {{"ip", u.ip}, {"time", u.time}, {"why", u.why}};
    return {{"started", started},
            {"last_wave", last_wave},
            {"nodes", nodes_json},
            {"unclaimed", unclaimed_json}};
}

namespace {

NodeBootRecord node_record_of(const json& v) {
    NodeBootRecord r;
    std::string state = v.value("state", "pending");
    auto found = std::find_if(kAllStates.begin(), kAllStates.end(),
                              [&](NodeBoot s) { return state == to_string(s); });
    if (found == kAllStates.end()) throw Error(fmt::format("unknown state \"{}\"", state));
    r.state = *found;
    r.powered_at = v.value("powered_at", 0.0);
    r.power_ons = json_integer_or(v, "power_ons", 0);
    r.mac = v.value("mac", "");
    r.ip = v.value("ip", "");
    r.bound_at = v.value("bound_at", 0.0);
    r.given_up_at = v.value("given_up_at", 0.0);
    r.given_up = v.value("given_up", "");
    r.result = v.value("result", "");
    r.error = v.value("error", "");
    return r;
}

}  // namespace

// A field of the wrong type (nlohmann's type_error) or a number out of range is an Error naming
// the file and the node, as an unknown state is.
BootState BootState::from_json(const json& j, const std::string& path) {
    if (!j.is_object() || !j.contains("nodes") || !j["nodes"].is_object())
        throw Error(fmt::format("{}: not a boot state (remove it to start over)", path));
    BootState st;
    try {
        st.started = j.value("started", 0.0);
        st.last_wave = j.value("last_wave", 0.0);
    } catch (const std::exception& e) {
        throw Error(fmt::format("{}: {} (remove it to start over)", path, e.what()));
    }
    for (auto it = j["nodes"].begin(); it != j["nodes"].end(); ++it) try {
            st.nodes[it.key()] = node_record_of(it.value());
        } catch (const std::exception& e) {
            throw Error(fmt::format("{}: node {}: {}", path, it.key(), e.what()));
        }
    if (j.contains("unclaimed") && j["unclaimed"].is_object())
        for (auto it = j["unclaimed"].begin(); it != j["unclaimed"].end(); ++it)
            if (it.value().is_object()) try {
                    st.unclaimed[it.key()] = {it.value().value("ip", ""),
                                              it.value().value("time", 0.0),
                                              it.value().value("why", "")};
                } catch (const std::exception& e) {
                    throw Error(fmt::format("{}: unclaimed {}: {}", path, it.key(), e.what()));
                }
    return st;
}

BootState read_boot_state(const std::string& path) {
    std::optional<std::string> text = read_file(path);
    if (!text) return {};
    return BootState::from_json(json::parse(*text, nullptr, false), path);
}

void add_boot_columns(json& table, const BootState& boot) {
    for (json& row : table["nodes"]) {
        auto it = boot.nodes.find(row["name"].get<std::string>());
        NodeBootRecord r = it == boot.nodes.end() ? NodeBootRecord{} : it->second;
        row["boot"] = to_string(r.state);
        row["powered_at"] = r.powered_at > 0 ? json(r.powered_at) : json();
        row["boot_error"] = r.error.empty() ? json() : json(r.error);
        // A phase reported before the last power-on belongs to an earlier install.
        if (r.powered_at > 0 && row.value("phase_time", json()).is_number() &&
            row["phase_time"].get<double>() < r.powered_at) {
            row["phase"] = nullptr;
            row["phase_time"] = nullptr;
            row["phase_detail"] = nullptr;
        }
    }
    for (json& lease : table["unbound"]) {
        auto it = boot.unclaimed.find(lease.value("mac", ""));
        if (it != boot.unclaimed.end()) lease["unclaimed"] = it->second.why;
    }
}

BootStep plan_boot(const std::vector<PlanEntry>& nodes, const BootState& state,
                   const DhcpLeaseTable& leases, const BootSettings& settings, double now) {
    BootStep step;
    // A node waiting for its MAC comes first: until it is bound or given up, nobody else may boot.
    std::set<std::string> taken = taken_macs(nodes, state);
    bool off_failed = false;
    for (const auto& [name, r] : state.nodes) off_failed |= r.state == NodeBoot::kOffFailed;
    for (const PlanEntry& n : nodes) {
        NodeBootRecord r = record_of(state, n.name);
        if (r.state != NodeBoot::kWaiting) continue;
        step.nodes = {n.name};
        double end = r.powered_at + settings.bind_timeout_s;
        std::vector<std::pair<std::string, double>> found =
            window_macs(leases, state, taken, r.powered_at, end);
        std::vector<std::string> macs;
        macs.reserve(found.size());
        for (const auto& [mac, t] : found) macs.push_back(mac);
        double settled = found.empty() ? 0 : std::min(found[0].second + kBindSettle, end);
        if (macs.size() == 1 && now >= settled) {
            step.kind = BootStep::kBind;
            step.mac = macs[0];
            step.ip = leases.leases().at(macs[0]).ip;
        } else if (macs.size() > 1) {
            step.kind = BootStep::kUnbind;
            step.why = fmt::format(
                "{} new MACs leased within its window ({}): which is its own cannot be told; "
                "each is unclaimed",
                macs.size(), fmt::join(macs, ", "));
            step.unclaimed = macs;
        } else if (macs.size() == 1) {
            step.kind = BootStep::kWait;  // alone so far: bound once it has stayed alone
            step.at = std::min(now + kBindPoll, settled);
        } else if (now >= end) {
            step.kind = BootStep::kUnbind;
            step.why =
                fmt::format("no new lease within {} s of its power-on", settings.bind_timeout_s);
        } else {
            step.kind = BootStep::kWait;
            step.at = std::min(now + kBindPoll, r.powered_at + settings.bind_timeout_s);
        }
        return step;
    }

    // The next wave: consecutive nodes left to power, all with a known MAC, or one without.
    std::vector<std::string> wave;
    for (const PlanEntry& n : nodes) {
        if (!may_power(n, record_of(state, n.name))) continue;
        if (n.mac.empty()) {
            if (off_failed) continue;  // its lease could be the given-up node's
            if (wave.empty()) wave.push_back(n.name);
            break;
        }
        wave.push_back(n.name);
        if (wave.size() >= std::max<size_t>(settings.wave, 1)) break;
    }
    if (wave.empty()) return step;  // kDone
    double due = state.last_wave > 0 ? state.last_wave + settings.interval_s : now;
    if (now < due) {
        step.kind = BootStep::kWait;
        step.at = due;
        return step;
    }
    step.kind = BootStep::kPower;
    step.nodes = std::move(wave);
    return step;
}

std::map<std::string, UnclaimedLease> new_unclaimed(const std::vector<PlanEntry>& nodes,
                                                    const BootState& state,
                                                    const DhcpLeaseTable& leases,
                                                    const BootSettings& settings) {
    std::set<std::string> taken = taken_macs(nodes, state);
    std::map<std::string, UnclaimedLease> out;
    for (const auto& [mac, l] : leases.leases()) {
        if (taken.count(mac) || state.unclaimed.count(mac) || !l.first_was_add ||
            l.first_seen < state.started)
            continue;
        // Whose window it fell in, if anyone's: a waiting node may still bind it.
        std::string why = "leased while no node without a MAC was waiting for one";
        bool pending = false;
        for (const auto& [name, r] : state.nodes) {
            double end = r.powered_at + settings.bind_timeout_s;
            if (r.powered_at == 0 || l.first_seen < r.powered_at || l.first_seen > end) continue;
            // The planner decides for a waiting node, also just past its window's end.
            if (r.state == NodeBoot::kWaiting) pending = true;
            if (r.state == NodeBoot::kBound)
                why = fmt::format("leased in the window of {}, already bound to {}", name, r.mac);
            if (r.state == NodeBoot::kUnbound || r.state == NodeBoot::kOffFailed)
                why = fmt::format("leased in the window of {}, given up: {}", name, r.error);
        }
        if (!pending) out[mac] = {l.ip, l.first_seen, why};
    }
    return out;
}

}  // namespace storkit
