#include "ticks.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "core/clock.h"
#include "core/statefile.h"

extern char** environ;

namespace fault {

namespace {

using Clock = std::chrono::steady_clock;

pid_t spawn_tick(const std::string& tool, const std::string& config, const std::string& node,
                 const std::string& out, const std::string& err) {
    std::vector<std::string> args = {tool, "--config", config, "--node", node, "--json"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, tool.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error(fmt::format("{}: cannot start: {}", tool, rc));
    return pid;
}

// The lease's holder and epoch as the sim keeps them ("" and 0 when there is none).
std::pair<std::string, uint64_t> lease_of(const std::string& file) {
    std::optional<std::string> text = storkit::read_file(file);
    if (!text) return {"", 0};
    nlohmann::json j = nlohmann::json::parse(*text);
    return {j.value("node", ""), j.value("epoch", uint64_t{0})};
}

// Whether the mid-round fault is due: at its time, or once its node took the lease (a new epoch).
bool due(const MidTick& mid, Clock::duration t, uint64_t epoch_before) {
    if (mid.kind == MidTick::kDeadline) return false;  // the tick's own watchdog acts
    if (mid.kind != MidTick::kKillAfterLease) return t >= mid.at;
    std::pair<std::string, uint64_t> l = lease_of(mid.lease_file);
    return l.first == mid.node && l.second != epoch_before;
}

}  // namespace

std::vector<TickRun> run_ticks(const std::string& tool, const std::string& config,
                               const std::vector<std::string>& nodes, const std::string& out_dir,
                               MidTick& mid, std::chrono::milliseconds hard_limit) {
    std::vector<TickRun> runs(nodes.size());
    std::vector<pid_t> pids(nodes.size(), 0);
    Clock::time_point start = Clock::now();
    for (size_t i = 0; i < nodes.size(); ++i) {
        runs[i].node = nodes[i];
        runs[i].spawned_at = storkit::now_seconds();
        bool own = mid.kind == MidTick::kDeadline && nodes[i] == mid.node;
        pids[i] = spawn_tick(tool, own ? mid.config : config, nodes[i],
                             out_dir + "/tick." + nodes[i] + ".out",
                             out_dir + "/tick." + nodes[i] + ".err");
    }
    bool mid_done = mid.kind == MidTick::kNone;
    uint64_t epoch_before =
        mid.kind == MidTick::kKillAfterLease ? lease_of(mid.lease_file).second : 0;
    for (size_t left = nodes.size(); left > 0;) {
        Clock::duration t = Clock::now() - start;
        if (!mid_done && due(mid, t, epoch_before)) {
            mid_done = true;
            for (size_t i = 0; i < nodes.size(); ++i)
                if (nodes[i] == mid.node && pids[i] != 0) mid.landed = true;
            if (mid.kind == MidTick::kStallDaemon) ::kill(mid.daemon, SIGSTOP);
            for (size_t i = 0; i < nodes.size(); ++i)
                if (mid.kind != MidTick::kStallDaemon && nodes[i] == mid.node && pids[i] != 0) {
                    ::kill(pids[i], SIGKILL);
                    runs[i].killed = true;
                }
        }
        for (size_t i = 0; i < nodes.size(); ++i) {
            if (pids[i] == 0) continue;
            if (t >= hard_limit) {
                ::kill(pids[i], SIGKILL);
                runs[i].overran = true;
            }
            int status = 0;
            if (::waitpid(pids[i], &status, WNOHANG) != pids[i]) continue;
            runs[i].secs = std::chrono::duration<double>(Clock::now() - start).count();
            if (WIFEXITED(status)) runs[i].exit_code = WEXITSTATUS(status);
            if (WIFSIGNALED(status)) runs[i].signal = WTERMSIG(status);
            pids[i] = 0;
            --left;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    for (TickRun& r : runs) {
        r.out = storkit::read_file(out_dir + "/tick." + r.node + ".out").value_or("");
        r.err = storkit::read_file(out_dir + "/tick." + r.node + ".err").value_or("");
        if (mid.kind == MidTick::kDeadline && r.node == mid.node)
            mid.landed = r.out.find("exceeded its deadline") != std::string::npos;
    }
    return runs;
}

}  // namespace fault
