// Running a command: an argv vector (never a shell string), extra environment, and a deadline.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace storkit {

struct ExecResult {
    bool started = false;    // false: the program could not be started (see `error`)
    bool timed_out = false;  // killed at the deadline
    double timeout_s = 0;    // that deadline, in seconds (when timed out)
    int exit_code = -1;      // valid when exited normally
    int signal = 0;          // non-zero when killed by a signal
    std::string out;         // stdout, capped at 1 MiB
    std::string err;         // stderr, capped at 64 KiB
    std::string error;       // why it could not start

    bool ok() const { return started && !timed_out && signal == 0 && exit_code == 0; }
    // "exit 3", "killed by signal 9", "timed out after 10 s", "cannot run: ..."
    std::string describe() const;
};

struct ExecRequest {
    std::vector<std::string> argv;
    std::map<std::string, std::string> env;  // added to (or replacing in) the inherited environment
    std::chrono::milliseconds timeout{10000};
    std::string stdin_data;  // written to the child's stdin, then closed
    // Called with each piece of stdout as it arrives (progress), besides collecting it.
    std::function<void(const std::string&)> on_out;
};

// Runs the command in its own process group; at the deadline the whole group gets SIGKILL.
ExecResult run_command(const ExecRequest& req);

}  // namespace storkit
