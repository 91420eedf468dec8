// One round of ticks: the built mgmtvm-reconcile started on every live node at once (cron fires
// on every node in the same minute), with at most one fault landing in the middle of it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace fault {

struct TickRun {
    std::string node;
    double spawned_at = 0;  // epoch seconds, to tell this tick's state file from an older one
    double secs = 0;        // wall time until it ended
    int exit_code = -1;     // when it exited
    int signal = 0;         // when a signal ended it
    bool killed = false;    // by the harness's mid-tick SIGKILL
    bool overran = false;   // still running at the hard limit: the harness killed it
    std::string out, err;
};

// A fault for the middle of the round.
struct MidTick {
    enum Kind {
        kNone,
        kKillTick,        // SIGKILL of the node's tick at `at`
        kKillAfterLease,  // SIGKILL of the node's tick as soon as `lease_file` shows that it
                          // took the lease (a new epoch): a crash between two steps of a start
        kStallDaemon,     // SIGSTOP of the node's libvirtd at `at`; the caller continues it
                          // after the round
        kDeadline,        // the node's tick runs with `config` while `stall_file` makes one
                          // of its storage calls ignore its deadline: its own watchdog ends it
    } kind = kNone;
    std::string node;  // whose tick or libvirtd
    pid_t daemon = 0;  // kStallDaemon: that libvirtd
    std::string lease_file;
    std::string config;      // kDeadline: the node's config for this round
    std::string stall_file;  // kDeadline: the sim fault file that stalls, and what it
    std::optional<std::string> stall_before;  // held before the round (restored after it)
    std::chrono::milliseconds at{0};          // after the start of the round
    bool landed = false;  // the node's tick was still running when the fault came
};

// Runs `tool --config CONFIG --node N --json` for every node in `nodes`, each with its output in
// `out_dir`, and waits for all of them; a tick still running at `hard_limit` gets SIGKILL.
std::vector<TickRun> run_ticks(const std::string& tool, const std::string& config,
                               const std::vector<std::string>& nodes, const std::string& out_dir,
                               MidTick& mid, std::chrono::milliseconds hard_limit);

}  // namespace fault
