#include "core/exec.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

extern char** environ;

namespace storkit {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxOut = 1 << 20;
constexpr size_t kMaxErr = 64 << 10;

struct Pipe {
    int r = -1, w = -1;
    ~Pipe() {
        if (r >= 0) ::close(r);
        if (w >= 0) ::close(w);
    }
};

void make_pipe(Pipe& p) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) throw Error(fmt::format("pipe: {}", errno_text(errno)));
    p.r = fds[0];
    p.w = fds[1];
}

std::vector<std::string> build_env(const std::map<std::string, std::string>& extra) {
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) {
        std::string kv = *e;
        std::string key = kv.substr(0, kv.find('='));
        if (!extra.count(key)) env.push_back(kv);
    }
    for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
    return env;
}

std::vector<char*> c_array(std::vector<std::string>& v) {
    std::vector<char*> out;
    for (std::string& s : v) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

// Reads what is available on fd into `into` (up to cap); returns false at EOF.
bool drain(int fd, std::string& into, size_t cap) {
    char buf[8192];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) return errno == EINTR || errno == EAGAIN;
    if (n == 0) return false;
    size_t room = into.size() < cap ? cap - into.size() : 0;
    into.append(buf, std::min(room, static_cast<size_t>(n)));
    return true;
}

void record_status(ExecResult& r, int status) {
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
}

}  // namespace

std::string ExecResult::describe() const {
    if (!started) return "cannot run: " + error;
    if (timed_out) return "timed out";
    if (signal) return fmt::format("killed by signal {}", signal);
    return fmt::format("exit {}", exit_code);
}

ExecResult run_command(const ExecRequest& req) {
    ExecResult res;
    if (req.argv.empty()) {
        res.error = "empty command";
        return res;
    }
    Pipe in, out, err;
    make_pipe(in);
    make_pipe(out);
    make_pipe(err);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in.r, 0);
    posix_spawn_file_actions_adddup2(&fa, out.w, 1);
    posix_spawn_file_actions_adddup2(&fa, err.w, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Own process group, so the deadline kills the command and everything it started.
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    sigset_t dfl;
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    posix_spawnattr_setsigdefault(&attr, &dfl);
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    std::vector<std::string> argv = req.argv;
    std::vector<std::string> env = build_env(req.env);
    std::vector<char*> cargv = c_array(argv);
    std::vector<char*> cenv = c_array(env);
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, cargv[0], &fa, &attr, cargv.data(), cenv.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        res.error = fmt::format("{}: {}", req.argv[0], errno_text(rc));
        return res;
    }
    res.started = true;
    ::close(in.r), in.r = -1;
    ::close(out.w), out.w = -1;
    ::close(err.w), err.w = -1;

    // Feed stdin (small payloads only; a command that does not read them gets EPIPE).
    if (!req.stdin_data.empty()) {
        struct sigaction ign {
        }, old{};
        ign.sa_handler = SIG_IGN;
        ::sigaction(SIGPIPE, &ign, &old);
        (void)!::write(in.w, req.stdin_data.data(), req.stdin_data.size());
        ::sigaction(SIGPIPE, &old, nullptr);
    }
    ::close(in.w), in.w = -1;

    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    Clock::time_point deadline = Clock::now() + req.timeout;
    bool out_open = true, err_open = true, exited = false;
    int status = 0;
    while (!exited) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) break;
        pollfd fds[3];
        int n = 0;
        int oi = -1, ei = -1, pi = -1;
        if (out_open) oi = n, fds[n++] = {out.r, POLLIN, 0};
        if (err_open) ei = n, fds[n++] = {err.r, POLLIN, 0};
        if (pidfd >= 0) pi = n, fds[n++] = {pidfd, POLLIN, 0};
        int wait_ms = pidfd >= 0 ? static_cast<int>(left.count())
                                 : std::min<int>(static_cast<int>(left.count()), 20);
        int pr = ::poll(fds, static_cast<nfds_t>(n), wait_ms);
        if (pr < 0 && errno != EINTR) break;
        if (oi >= 0 && fds[oi].revents) out_open = drain(out.r, res.out, kMaxOut);
        if (ei >= 0 && fds[ei].revents) err_open = drain(err.r, res.err, kMaxErr);
        if (pidfd < 0 || (pi >= 0 && fds[pi].revents)) {
            pid_t w = ::waitpid(pid, &status, WNOHANG);
            if (w == pid) exited = true;
        }
    }
    if (!exited) {
        res.timed_out = true;
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, &status, 0);
    } else {
        // Collect output already written; do not wait for grandchildren holding the pipes.
        while (out_open) {
            pollfd p{out.r, POLLIN, 0};
            if (::poll(&p, 1, 0) <= 0) break;
            out_open = drain(out.r, res.out, kMaxOut);
        }
        while (err_open) {
            pollfd p{err.r, POLLIN, 0};
            if (::poll(&p, 1, 0) <= 0) break;
            err_open = drain(err.r, res.err, kMaxErr);
        }
        record_status(res, status);
    }
    if (pidfd >= 0) ::close(pidfd);
    return res;
}

}  // namespace storkit
