// One round of ticks: the built mgmtvm-reconcile started on every live node at once (cron fires
// on every node in the same minute).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace fault {

struct TickRun {
    std::string node;
    double spawned_at = 0;  // epoch seconds, to tell this tick's state file from an older one
    double secs = 0;        // wall time until it ended
    int exit_code = -1;     // when it exited
    int signal = 0;         // when a signal ended it
    bool overran = false;   // still running at the hard limit: the harness killed it
    std::string out, err;
};

// Runs `tool --config CONFIG --node N --json` for every node in `nodes`, each with its output in
// `out_dir`, and waits for all of them; a tick still running at `hard_limit` gets SIGKILL.
std::vector<TickRun> run_ticks(const std::string& tool, const std::string& config,
                               const std::vector<std::string>& nodes, const std::string& out_dir,
                               std::chrono::milliseconds hard_limit);

}  // namespace fault
