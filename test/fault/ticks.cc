#include "ticks.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

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

}  // namespace

std::vector<TickRun> run_ticks(const std::string& tool, const std::string& config,
                               const std::vector<std::string>& nodes, const std::string& out_dir,
                               std::chrono::milliseconds hard_limit) {
    std::vector<TickRun> runs(nodes.size());
    std::vector<pid_t> pids(nodes.size(), 0);
    Clock::time_point start = Clock::now();
    for (size_t i = 0; i < nodes.size(); ++i) {
        runs[i].node = nodes[i];
        runs[i].spawned_at = storkit::now_seconds();
        pids[i] = spawn_tick(tool, config, nodes[i], out_dir + "/tick." + nodes[i] + ".out",
                             out_dir + "/tick." + nodes[i] + ".err");
    }
    for (size_t left = nodes.size(); left > 0;) {
        Clock::duration t = Clock::now() - start;
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
    }
    return runs;
}

}  // namespace fault
