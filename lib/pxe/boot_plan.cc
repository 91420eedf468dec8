#include "pxe/boot_plan.h"

#include <algorithm>
#include <array>
#include <set>

#include "core/error.h"
#include "core/statefile.h"

namespace storkit {

namespace {

using nlohmann::json;

constexpr std::array<NodeBoot, 9> kAllStates = {
    NodeBoot::kPending, NodeBoot::kWaiting,   NodeBoot::kBooted,
    NodeBoot::kBound,   NodeBoot::kUnbound,   NodeBoot::kFailed,
    NodeBoot::kNoBmc,   NodeBoot::kInstalled, NodeBoot::kRunning};

// How often a waiting node's leases are looked at.
constexpr double kBindPoll = 0.25;

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

}  // namespace

const char* to_string(NodeBoot s) {
    switch (s) {
        case NodeBoot::kPending: return "pending";
        case NodeBoot::kWaiting: return "waiting";
        case NodeBoot::kBooted: return "booted";
        case NodeBoot::kBound: return "bound";
        case NodeBoot::kUnbound: return "unbound";
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
                            {"result", r.result},
                            {"error", r.error}};
    return {{"started", started}, {"last_wave", last_wave}, {"nodes", nodes_json}};
}

BootState BootState::from_json(const json& j, const std::string& path) {
    if (!j.is_object() || !j.contains("nodes") || !j["nodes"].is_object())
        throw Error(fmt::format("{}: not a boot state (remove it to start over)", path));
    BootState st;
    st.started = j.value("started", 0.0);
    st.last_wave = j.value("last_wave", 0.0);
    for (auto it = j["nodes"].begin(); it != j["nodes"].end(); ++it) {
        const json& v = it.value();
        NodeBootRecord r;
        std::string state = v.value("state", "pending");
        auto found = std::find_if(kAllStates.begin(), kAllStates.end(),
                                  [&](NodeBoot s) { return state == to_string(s); });
        if (found == kAllStates.end())
            throw Error(fmt::format("{}: node {}: unknown state \"{}\"", path, it.key(), state));
        r.state = *found;
        r.powered_at = v.value("powered_at", 0.0);
        r.power_ons = v.value("power_ons", 0);
        r.mac = v.value("mac", "");
        r.ip = v.value("ip", "");
        r.bound_at = v.value("bound_at", 0.0);
        r.result = v.value("result", "");
        r.error = v.value("error", "");
        st.nodes[it.key()] = r;
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
}

BootStep plan_boot(const std::vector<PlanEntry>& nodes, const BootState& state,
                   const DhcpLeaseTable& leases, const BootSettings& settings, double now) {
    BootStep step;
    // A node waiting for its MAC comes first: until it is bound, nobody else may boot.
    std::set<std::string> taken;
    for (const PlanEntry& n : nodes)
        if (!n.mac.empty()) taken.insert(n.mac);
    for (const auto& [name, r] : state.nodes)
        if (!r.mac.empty()) taken.insert(r.mac);
    for (const PlanEntry& n : nodes) {
        NodeBootRecord r = record_of(state, n.name);
        if (r.state != NodeBoot::kWaiting) continue;
        step.nodes = {n.name};
        if (std::optional<std::string> mac = first_new_mac(leases, r.powered_at, taken)) {
            step.kind = BootStep::kBind;
            step.mac = *mac;
            step.ip = leases.leases().at(*mac).ip;
        } else if (now >= r.powered_at + settings.bind_timeout_s) {
            step.kind = BootStep::kUnbind;
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

}  // namespace storkit
