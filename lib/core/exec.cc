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
#include "core/secret.h"

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
        if (!extra.count(key) && !is_secret_env(key)) env.push_back(kv);
    }
    for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
    return env;
}

std::vector<char*> c_array(std::vector<std::string>& v) {
    std::vector<char*> out;
    out.reserve(v.size() + 1);
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

// posix_spawn's settings: the pipes as stdin, stdout and stderr; its own process group, so the
// deadline kills the command and everything it started; no blocked signals, SIGPIPE default.
struct SpawnSettings {
    posix_spawn_file_actions_t files;
    posix_spawnattr_t attr;

    SpawnSettings(const Pipe& in, const Pipe& out, const Pipe& err) {
        posix_spawn_file_actions_init(&files);
        posix_spawn_file_actions_adddup2(&files, in.r, 0);
        posix_spawn_file_actions_adddup2(&files, out.w, 1);
        posix_spawn_file_actions_adddup2(&files, err.w, 2);
        posix_spawnattr_init(&attr);
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
    }
    ~SpawnSettings() {
        posix_spawn_file_actions_destroy(&files);
        posix_spawnattr_destroy(&attr);
    }
    SpawnSettings(const SpawnSettings&) = delete;
    SpawnSettings& operator=(const SpawnSettings&) = delete;
};

// Starts the command on the pipes; returns posix_spawn's error number (0: started, `pid` set).
int spawn(const ExecRequest& req, const Pipe& in, const Pipe& out, const Pipe& err, pid_t& pid) {
    SpawnSettings settings(in, out, err);
    std::vector<std::string> argv = req.argv;
    std::vector<std::string> env = build_env(req.env);
    std::vector<char*> cargv = c_array(argv);
    std::vector<char*> cenv = c_array(env);
    return ::posix_spawn(&pid, cargv[0], &settings.files, &settings.attr, cargv.data(),
                         cenv.data());
}

// Writes `data` to the command's stdin and closes it (small payloads only; a command that does
// not read them gets EPIPE).
void feed_stdin(Pipe& in, const std::string& data) {
    if (!data.empty()) {
        struct sigaction ign {
        }, old{};
        ign.sa_handler = SIG_IGN;
        ::sigaction(SIGPIPE, &ign, &old);
        (void)!::write(in.w, data.data(), data.size());
        ::sigaction(SIGPIPE, &old, nullptr);
    }
    ::close(in.w), in.w = -1;
}

// A started command as the parent watches it: its pid (and pidfd, when the kernel has them)
// and the read ends of its stdout and stderr, open until EOF.
struct Child {
    pid_t pid;
    int pidfd;
    int out_fd, err_fd;
    bool out_open = true, err_open = true;
    int status = 0;  // the wait status, once it exited
};

// Collects the command's output until it exits or `deadline` passes; returns whether it exited.
bool wait_until(Child& c, Clock::time_point deadline, ExecResult& res,
                const std::function<void(const std::string&)>& on_out) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return false;
        pollfd fds[3];
        int n = 0;
        int oi = -1, ei = -1, pi = -1;
        if (c.out_open) oi = n, fds[n++] = {c.out_fd, POLLIN, 0};
        if (c.err_open) ei = n, fds[n++] = {c.err_fd, POLLIN, 0};
        if (c.pidfd >= 0) pi = n, fds[n++] = {c.pidfd, POLLIN, 0};
        int wait_ms = c.pidfd >= 0 ? static_cast<int>(left.count())
                                   : std::min<int>(static_cast<int>(left.count()), 20);
        int pr = ::poll(fds, static_cast<nfds_t>(n), wait_ms);
        if (pr < 0 && errno != EINTR) return false;
        if (oi >= 0 && fds[oi].revents) {
            size_t had = res.out.size();
            c.out_open = drain(c.out_fd, res.out, kMaxOut);
            if (on_out && res.out.size() > had) on_out(res.out.substr(had));
        }
        if (ei >= 0 && fds[ei].revents) c.err_open = drain(c.err_fd, res.err, kMaxErr);
        if (c.pidfd < 0 || (pi >= 0 && fds[pi].revents)) {
            pid_t w = ::waitpid(c.pid, &c.status, WNOHANG);
            if (w == c.pid) return true;
        }
    }
}

// After the exit: the output already written, without waiting for grandchildren that still
// hold the pipes.
void collect_rest(Child& c, ExecResult& res) {
    while (c.out_open) {
        pollfd p{c.out_fd, POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0) break;
        c.out_open = drain(c.out_fd, res.out, kMaxOut);
    }
    while (c.err_open) {
        pollfd p{c.err_fd, POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0) break;
        c.err_open = drain(c.err_fd, res.err, kMaxErr);
    }
}

}  // namespace

std::string ExecResult::describe() const {
    if (!started) return "cannot run: " + error;
    if (timed_out) return fmt::format("timed out after {} s", timeout_s);
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
    pid_t pid = -1;
    if (int rc = spawn(req, in, out, err, pid); rc != 0) {
        res.error = fmt::format("{}: {}", req.argv[0], errno_text(rc));
        return res;
    }
    res.started = true;
    ::close(in.r), in.r = -1;
    ::close(out.w), out.w = -1;
    ::close(err.w), err.w = -1;
    feed_stdin(in, req.stdin_data);

    Child child{pid, static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)), out.r, err.r};
    if (wait_until(child, Clock::now() + req.timeout, res, req.on_out)) {
        collect_rest(child, res);
        record_status(res, child.status);
    } else {
        res.timed_out = true;
        res.timeout_s = std::chrono::duration<double>(req.timeout).count();
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, &child.status, 0);
    }
    if (child.pidfd >= 0) ::close(child.pidfd);
    return res;
}

}  // namespace storkit
