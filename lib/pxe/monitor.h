// pxe-monitor's judgement of every install, as a pure function of the table (table.json, from
// the control machine), what the monitor saw before (its watch state) and the time.
//
// An install is timed from its node's power-on ("powered_at" in the table). Its phases, each
// from a real signal, each with a deadline:
//   dhcp       a DHCP lease after the power-on (dnsmasq's hook)       dhcp_s after power-on
//   kickstart  the installer's first report, which it posts once it    kickstart_s after the lease
//              has fetched its kickstart (%pre)
//   heartbeat  any report while it installs                           heartbeat_s after the last
//   install    "finished" (or "done")                                  install_s after power-on
// The first tick after a deadline passes reports the node as timed out in that phase; a node
// that reports "failed" has failed; "finished" succeeded. Each node gets one result per
// power-on, and is then no longer watched: a new power-on (a reinstall) starts a new watch.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace storkit {

struct MonitorSettings {
    double dhcp_s = 300;
    double kickstart_s = 300;
    double heartbeat_s = 600;
    double install_s = 1200;
    int retries = 0;  // power-cycles into PXE after a timeout before it counts as the result
};

// What the monitor knows of one node's current install.
struct Watch {
    double powered_at = 0;  // the power-on this watch is for
    double dhcp_at = 0;     // its first lease after the power-on, as first seen
    double files_at = 0;    // its first boot file after the lease
    double started_at = 0;  // its first report
    double last_report = 0;
    std::string phase;   // the last phase reached: powered, dhcp, boot-files, or a report
    std::string result;  // "", "succeeded", "failed", "timed-out"
    double result_at = 0;
    std::string result_phase;  // the phase the result names
    std::string detail;
    int retries = 0;  // power-cycles the monitor did for this install

    bool done() const { return !result.empty(); }
    nlohmann::json to_json() const;
    static Watch from_json(const nlohmann::json& j);
};

using WatchState = std::map<std::string, Watch>;  // by node name

// One thing a tick found: a result, or a retry the caller must carry out (power-cycle the
// node into PXE and call note_retry).
struct MonitorEvent {
    std::string node;
    std::string result;  // "succeeded", "failed", "timed-out" or "retry"
    std::string phase;
    std::string detail;
    double time = 0;

    nlohmann::json to_json() const;
};

// Looks at every row of `table` (a joined table with boot columns) and updates `watch`.
// Returns the events of this tick, in node order.
std::vector<MonitorEvent> monitor_tick(const nlohmann::json& table, WatchState& watch,
                                       const MonitorSettings& s, double now);

// After a retry's power-cycle at `at`: the install starts over, counted.
void note_retry(Watch& w, double at);

}  // namespace storkit
