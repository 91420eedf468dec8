#include "pxe/monitor.h"

#include <fmt/format.h>

#include <algorithm>

#include "pxe/json_fields.h"

namespace storkit {

using nlohmann::json;

namespace {

bool is_success(const std::string& phase) {
    return phase == "finished" || phase == "done";
}

// Learns what the row shows of the install that began at w.powered_at.
void observe(const json& row, Watch& w) {
    double leased = json_number(row, "last_seen");
    if (!json_string(row, "ip").empty() && leased >= w.powered_at && w.dhcp_at == 0) {
        w.dhcp_at = leased;
        w.phase = "dhcp";
    }
    if (w.dhcp_at > 0 && w.files_at == 0 && row.contains("boot_files") &&
        row["boot_files"].is_array())
        for (const json& f : row["boot_files"]) {
            double t = json_number(f, "time");
            if (t >= w.powered_at) {
                w.files_at = t;
                if (w.started_at == 0) w.phase = "boot-files";
                break;
            }
        }
    double reported = json_number(row, "phase_time");
    std::string phase = json_string(row, "phase");
    if (phase.empty() || reported < w.powered_at) return;
    if (w.started_at == 0) w.started_at = reported;
    w.last_report = std::max(w.last_report, reported);
    w.phase = phase;
}

MonitorEvent finish(const std::string& node, Watch& w, std::string result, std::string phase,
                    std::string detail, double now) {
    w.result = result;
    w.result_at = now;
    w.result_phase = phase;
    w.detail = detail;
    return {node, std::move(result), std::move(phase), std::move(detail), now};
}

// The phase whose deadline has passed, with why; "" when none.
std::pair<std::string, std::string> missed(const Watch& w, const MonitorSettings& s, double now) {
    if (w.dhcp_at == 0 && now > w.powered_at + s.dhcp_s)
        return {"dhcp", fmt::format("no DHCP lease {:.0f} s after power-on", s.dhcp_s)};
    if (w.dhcp_at > 0 && w.started_at == 0 && now > w.dhcp_at + s.kickstart_s)
        return {"kickstart",
                fmt::format("no report from the installer {:.0f} s after the lease{}",
                            s.kickstart_s, w.files_at > 0 ? "" : " (no boot file fetched)")};
    if (w.started_at > 0 && now > w.last_report + s.heartbeat_s)
        return {"heartbeat",
                fmt::format("no report for {:.0f} s (last: {})", now - w.last_report, w.phase)};
    if (now > w.powered_at + s.install_s)
        return {"install", fmt::format("not finished {:.0f} s after power-on (reached: {})",
                                       s.install_s, w.phase)};
    return {"", ""};
}

}  // namespace

json Watch::to_json() const {
    return {
        {"powered_at", powered_at}, {"dhcp_at", dhcp_at},         {"files_at", files_at},
        {"started_at", started_at}, {"last_report", last_report}, {"phase", phase},
        {"result", result},         {"result_at", result_at},     {"result_phase", result_phase},
        {"detail", detail},         {"retries", retries}};
}

Watch Watch::from_json(const json& j) {
    Watch w;
    w.powered_at = json_number(j, "powered_at");
    w.dhcp_at = json_number(j, "dhcp_at");
    w.files_at = json_number(j, "files_at");
    w.started_at = json_number(j, "started_at");
    w.last_report = json_number(j, "last_report");
    w.phase = json_string(j, "phase");
    w.result = json_string(j, "result");
    w.result_at = json_number(j, "result_at");
    w.result_phase = json_string(j, "result_phase");
    w.detail = json_string(j, "detail");
    w.retries = static_cast<int>(json_number(j, "retries"));
    return w;
}

json MonitorEvent::to_json() const {
    return {
        {"node", node}, {"result", result}, {"phase", phase}, {"time", time}, {"detail", detail}};
}

void note_retry(Watch& w, double at) {
    int retries = w.retries + 1;
    w = Watch{};
    w.powered_at = at;
    w.phase = "powered";
    w.retries = retries;
}

std::vector<MonitorEvent> monitor_tick(const json& table, WatchState& watch,
                                       const MonitorSettings& s, double now) {
    std::vector<MonitorEvent> events;
    if (!table.contains("nodes") || !table["nodes"].is_array()) return events;
    for (const json& row : table["nodes"]) {
        std::string node = json_string(row, "name");
        double powered = json_number(row, "powered_at");
        if (node.empty() || powered <= 0) continue;  // never powered: nothing to watch
        Watch& w = watch[node];
        if (powered > w.powered_at) {  // a new install (the first, or a reinstall)
            w = Watch{};
            w.powered_at = powered;
            w.phase = "powered";
        }
        if (w.done()) continue;
        observe(row, w);
        if (w.started_at > 0 && is_success(w.phase)) {
            events.push_back(
                finish(node, w, "succeeded", "finished", json_string(row, "phase_detail"), now));
            continue;
        }
        if (w.phase == "failed") {
            events.push_back(
                finish(node, w, "failed", "failed", json_string(row, "phase_detail"), now));
            continue;
        }
        auto [phase, why] = missed(w, s, now);
        if (phase.empty()) continue;
        if (w.retries < s.retries) {
            events.push_back(
                {node, "retry", phase,
                 fmt::format("{}; power-cycle {} of {}", why, w.retries + 1, s.retries), now});
            continue;
        }
        events.push_back(finish(node, w, "timed-out", phase, why, now));
    }
    return events;
}

}  // namespace storkit
