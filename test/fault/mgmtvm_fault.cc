// Fault injection for the management-VM reconcile: real libvirtd daemons (test driver), the sim
// storage backend with a driven clock, and the built mgmtvm-reconcile ticking on every node.
// A seeded scheduler injects faults between ticks and inside them, and checks, without asking
// the code under test:
// - the disk: every running copy of the VM (each libvirtd asked directly, oracle.h) has a writer
//   (disk.h); fencing blocklists clients in the sim, and accepted writes of two copies must
//   never interleave. Two copies that cannot both write are harmless; two that can are not;
// - recovery: once the faults stop, the VM runs on exactly one node and its writes are
//   accepted within lease.ticks + 2 ticks;
// - every tick's end: a crash, a tick past its deadline, or an exit 1 that no fault of the
//   harness explains is a failure (see excused()). Which rule of the decision table each tick
//   reached is counted from its state file.
//
//   mgmtvm_fault --bin BUILD/bin --src SOURCE [--schedules N] [--seed S] [--first I] [-v]
//
// Schedule I of seed S is replayed alone with --seed S --first I --schedules 1 (the faults are
// the same; where a fault lands inside a tick depends on timing).
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <thread>

#include "cluster.h"
#include "core/statefile.h"
#include "mgmtvm/backend_sim.h"
#include "oracle.h"

using namespace fault;

namespace {

// Ctrl-C or a kill ends the run after the current schedule, with the test bed removed.
volatile sig_atomic_t g_stop = 0;
void on_signal(int) {
    g_stop = 1;
}
// A reader that went away (| head) would kill the run by SIGPIPE and leave the test bed running:
// the rest of the output goes to /dev/null and the run ends as on Ctrl-C.
void on_closed_stdout(int) {
    int fd = ::open("/dev/null", O_WRONLY);
    if (fd >= 0) ::dup2(fd, 1), ::close(fd);
    g_stop = 1;
}

constexpr int kFaultRounds = 10;  // ticks with faults, then the cluster is healed
constexpr int kRecoveryLimit = kLeaseTicks + 2;

// What the harness did to one node before a round, as far as a tick may fail for it.
struct Disturbance {
    bool libvirt = false;                        // its own libvirt frozen or stalled
    bool fence = false;                          // fencing made to fail, answer unknown or late
    std::map<std::string, std::string> storage;  // its storage parts made to fail ("lease")
    bool deadline = false;  // its tick ran with a deadline the harness cut short
};

struct Totals {
    long schedules = 0, failed_schedules = 0, ticks = 0, faults = 0;
    long conflicts = 0, raw_overlaps = 0, recovery_failures = 0, harness_failures = 0;
    long expected = 0, unexpected = 0, killed = 0;
    std::map<std::string, long> by_kind, rules, unexpected_by_kind;
    std::vector<int> recovery_ticks;
};

// Every rule name of the decision table, read from its source (kTable in reconcile.cc), so that
// a rule no tick reached is listed too.
std::vector<std::string> table_rules(const std::string& path) {
    std::string src = storkit::read_file(path).value_or("");
    size_t begin = src.find("kTable[] = {");
    size_t end = src.find("\n};", begin);
    if (begin == std::string::npos || end == std::string::npos)
        throw std::runtime_error(path + ": no kTable found");
    std::string table = src.substr(begin, end - begin);
    std::vector<std::string> rules;
    std::regex row(R"re(\{"([a-z0-9-]+)",)re");
    for (std::sregex_iterator it(table.begin(), table.end(), row), e; it != e; ++it)
        rules.push_back((*it)[1]);
    if (rules.empty()) throw std::runtime_error(path + ": no rules in kTable");
    return rules;
}

// The checks below must be able to fail: a fenced client's writes are refused, a new client of
// the fencing node writes, and a write after being superseded is reported.
void self_check(const std::string& work) {
    std::string dir = work + "/self-check";
    storkit::make_dirs(dir);
    storkit::SimDisk disk(dir);
    uint64_t a = disk.open("node1"), b = disk.open("node2");
    bool ok = disk.write(a, "node1", 1) && disk.write(b, "node2", 1);
    ok = ok && disk.blocklist_all_but("node2") == std::vector<uint64_t>{a};
    ok = ok && !disk.write(a, "node1", 2);
    uint64_t c = disk.open("node1");
    ok = ok && disk.write(c, "node1", 1) && disk.write(b, "node2", 2);
    WriteLog log(dir);
    std::vector<std::string> v = log.check();
    ok = ok && v.size() == 1 && log.accepted() == 4 && log.refused() == 1;
    std::filesystem::remove_all(dir);
    if (!ok) throw std::runtime_error("self-check: the sim's disk or the write check is broken");
}

class Schedule {
  public:
    Schedule(Cluster& c, const Options& o, Totals& t, int index)
        : c_(c), o_(o), t_(t), index_(index), rng_(seed_of(o.seed, index)) {}

    void run();

  private:
    static std::seed_seq::result_type seed_of(unsigned seed, int index) {
        std::seed_seq seq{seed, static_cast<unsigned>(index)};
        std::seed_seq::result_type v = 0;
        seq.generate(&v, &v + 1);
        return v;
    }
    void fail(const std::string& what);
    void check(const char* phase, int round);
    void ticks(const char* phase, int round, bool faults);
    void judge(const TickRun& r, const Disturbance& d, const char* phase, int round);

    Cluster& c_;
    const Options& o_;
    Totals& t_;
    int index_;
    std::mt19937 rng_;
    bool failed_ = false;
    bool explained_ = false;
    std::map<std::string, double> last_secs_;  // each node's last tick, to aim mid-tick faults
};

void Schedule::fail(const std::string& what) {
    fmt::print("{}: schedule {} (seed {})\n", what, index_, o_.seed);
    if (!failed_)
        fmt::print("  replay: mgmtvm_fault --bin {} --src {} --seed {} --first {} --schedules 1\n",
                   o_.bin, o_.src, o_.seed, index_);
    failed_ = true;
}

// After every change: overlapping copies get time to write, then the disk's log is checked.
void Schedule::check(const char* phase, int round) {
    if (c_.copies() > 1) {
        ++t_.raw_overlaps;
        std::this_thread::sleep_for(std::chrono::milliseconds(150));
    }
    for (const std::string& v : c_.log().check()) {
        ++t_.conflicts;
        fail(fmt::format("CONFLICT ({} round {}): {}", phase, round, v));
        if (!explained_) c_.explain(), explained_ = true;
    }
    for (uint64_t id : c_.writers().reap_dead()) {
        ++t_.harness_failures;
        fail(fmt::format("HARNESS: the writer of client {} died", id));
    }
}

// Whether a tick's end is a failure. A tick may report failure (exit 1) for what the harness did
// to its node, and only then: its own libvirt was frozen or stalled (the blind rules, or a start
// or stop that found no answer), fencing was made to fail (a start that must fence first), its
// shared store fails (the maintenance record cannot be read) or its lease does (a start that
// cannot take or renew the lease). Two nodes' ticks may also race for a free lease in one round:
// the loser's start fails with the lease held by the winner. Anything else that is not exit 0,
// a crash, and a tick past its deadline are unexpected.
bool excused(const std::string& out, const Disturbance& d) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(out);
    } catch (const std::exception&) {
        return false;
    }
    std::string rule = j.value("rule", ""), action = j.value("action", ""),
                msg = j.value("msg", "");
    if (rule == "service-down-blind" || rule == "master-blind" || rule == "slave-blind")
        return d.libvirt;
    if (rule == "maintenance-unknown") return d.storage.count("shared") > 0;
    if (msg.find("not starting: fencing") != std::string::npos) return d.fence;
    if (msg.find("not starting: lease not") != std::string::npos)
        return d.storage.count("lease") > 0 || msg.find(": held by ") != std::string::npos;
    if (msg.find(": " + action + " failed: ") != std::string::npos) return d.libvirt;
    return false;
}

void Schedule::judge(const TickRun& r, const Disturbance& d, const char* phase, int round) {
    ++t_.ticks;
    last_secs_[r.node] = r.secs;
    try {
        std::optional<std::string> text =
            storkit::read_file(fmt::format("{}/state/mgmtvm.{}.json", c_.dir(), r.node));
        nlohmann::json last = text ? nlohmann::json::parse(*text)["last"] : nlohmann::json();
        if (last.is_object() && last.value("time", 0.0) >= r.spawned_at)
            ++t_.rules[last.value("rule", "?")];
    } catch (const std::exception& e) {
        fmt::print("{}: unreadable state file: {}\n", r.node, e.what());
    }
    if (r.killed && r.signal == SIGKILL) {
        ++t_.killed;
        return;
    }
    std::string msg;
    try {
        msg = nlohmann::json::parse(r.out).value("msg", "");
    } catch (const std::exception&) {
        msg = r.err.substr(0, r.err.find('\n'));
    }
    std::string kind;
    if (r.overran)
        kind = "killed by the harness past its deadline";
    else if (r.signal)
        kind = fmt::format("crashed (signal {})", r.signal);
    else if (d.deadline && r.exit_code == 1)
        kind = "";  // its watchdog, or what a peer deadline cut that short left unanswered
    else if (r.secs > kTickDeadlineS + 1 || msg.find("exceeded its deadline") != std::string::npos)
        kind = "ran to its deadline";
    else if (r.exit_code == 1 && excused(r.out, d))
        kind = "";
    else if (r.exit_code == 1)
        kind = "exit 1 with no fault of the harness to explain it";
    else if (r.exit_code != 0)
        kind = fmt::format("exit {}", r.exit_code);
    if (r.exit_code == 0 && kind.empty()) return;
    if (kind.empty()) {
        ++t_.expected;
        if (o_.verbose) fmt::print("    {}: expected failure: {}\n", r.node, msg);
        return;
    }
    ++t_.unexpected;
    ++t_.unexpected_by_kind[kind];
    fail(fmt::format("TICK FAILURE ({} round {}): {} {} after {:.2f} s: {}", phase, round, r.node,
                     kind, r.secs, msg));
}

// One round of ticks on every node, with a fault inside it at times.
void Schedule::ticks(const char* phase, int round, bool faults) {
    MidTick mid = faults ? c_.plan_mid_tick(last_secs_) : MidTick{};
    std::map<std::string, Disturbance> disturbed;
    for (const Node& n : c_.nodes()) {
        Disturbance& d = disturbed[n.name];
        d.libvirt = n.frozen || (mid.kind == MidTick::kStallDaemon && mid.node == n.name);
        d.fence = !c_.fence_healthy();
        d.storage = n.storage;
        d.deadline = mid.kind == MidTick::kDeadline && mid.node == n.name;
    }
    std::vector<TickRun> runs = c_.tick_all(mid);
    if (mid.kind != MidTick::kNone) {
        std::string kind = mid.kind == MidTick::kKillTick ? "tick killed mid-run"
                           : mid.kind == MidTick::kKillAfterLease
                               ? "tick killed after taking the lease"
                           : mid.kind == MidTick::kDeadline ? "tick ended by its own deadline"
                                                            : "libvirtd stalled mid-tick";
        // One that came after the tick ended is listed, but not counted as a fault.
        if (!mid.landed) kind += " (missed)";
        t_.faults += mid.landed;
        ++t_.by_kind[kind];
        if (o_.verbose)
            fmt::print("  schedule {} round {}: {} on {}\n", index_, round, kind, mid.node);
    }
    for (const TickRun& r : runs) judge(r, disturbed[r.node], phase, round);
}

void Schedule::run() {
    int count = std::uniform_int_distribution<int>(3, kPool)(rng_);
    c_.reset(count, index_, rng_);
    c_.observe();
    long unknown_before = c_.unknown();
    for (int round = 0; round < kFaultRounds && !g_stop; ++round) {
        if (std::uniform_real_distribution<double>(0, 1)(rng_) < 0.4) {
            std::string kind = c_.inject();
            if (kind != "none") ++t_.faults, ++t_.by_kind[kind];
            if (o_.verbose) fmt::print("  schedule {} round {}: {}\n", index_, round, kind);
            c_.observe();
            check("fault", round);
        }
        ticks("fault", round, true);
        c_.observe();
        check("fault", round);
        c_.advance();
    }
    c_.heal();
    c_.observe();
    check("heal", 0);
    bool recovered = false;
    for (int round = 1; round <= kRecoveryLimit + 5 && !recovered && !g_stop; ++round) {
        ticks("recovery", round, false);
        c_.observe();
        check("recovery", round);
        c_.advance();
        const std::vector<Node>& nodes = c_.nodes();
        auto copy =
            std::find_if(nodes.begin(), nodes.end(), [](const Node& n) { return n.running; });
        if (c_.copies() != 1 || c_.writers().blocklisted(copy->client)) continue;
        recovered = true;
        t_.recovery_ticks.push_back(round);
        if (round > kRecoveryLimit) {
            ++t_.recovery_failures;
            fail(fmt::format("SLOW RECOVERY: {} ticks", round));
        }
    }
    if (!recovered && !g_stop) {
        ++t_.recovery_failures;
        fail(fmt::format("NO RECOVERY within {} ticks", kRecoveryLimit + 5));
        c_.explain();
    }
    c_.writers().stop_all();
    check("end", 0);
    if (c_.unknown() > unknown_before) {
        t_.harness_failures += c_.unknown() - unknown_before;
        fail("ORACLE: a daemon never answered");
    }
    if (failed_) ++t_.failed_schedules;
}

void print_summary(const Totals& t, const std::vector<std::string>& rules, const Cluster& c,
                   double secs) {
    fmt::print("\nschedules {}  ticks {}  faults {}  wall time {:.0f} s\n", t.schedules, t.ticks,
               t.faults, secs);
    fmt::print("faults by kind:\n");
    for (const auto& [k, v] : t.by_kind) fmt::print("  {:<48} {:>5}\n", k, v);
    fmt::print("rules reached (last decision of each tick, from its state file):\n");
    for (const std::string& r : rules) {
        auto it = t.rules.find(r);
        fmt::print("  {:<48} {:>5}\n", r, it == t.rules.end() ? 0 : it->second);
    }
    for (const auto& [r, v] : t.rules)
        if (std::find(rules.begin(), rules.end(), r) == rules.end())
            fmt::print("  {:<48} {:>5}  (not in kTable)\n", r, v);
    fmt::print("accepted-write conflicts: {} (must be 0)\n", t.conflicts);
    fmt::print("  (information only: checks with two copies running, fenced or not: {})\n",
               t.raw_overlaps);
    std::vector<int> r = t.recovery_ticks;
    std::sort(r.begin(), r.end());
    fmt::print(
        "recovery ticks after the last fault: median {}  worst {}  (limit {}; failures {})\n",
        r.empty() ? 0 : r[r.size() / 2], r.empty() ? 0 : r.back(), kRecoveryLimit,
        t.recovery_failures);
    fmt::print("tick failures seen: expected {}  unexpected {}  (ticks killed by the harness {})\n",
               t.expected, t.unexpected, t.killed);
    for (const auto& [k, v] : t.unexpected_by_kind) fmt::print("  unexpected: {}: {}\n", k, v);
    fmt::print("oracle: questions re-asked {}  never answered {}  harness failures {}\n",
               c.unanswered(), c.unknown(), t.harness_failures);
    fmt::print("VM starts seen (backend {}, placement {}): {}\n", c.backend(), c.placement(),
               c.starts());
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app("Fault injection for mgmtvm-reconcile", "mgmtvm_fault");
    app.add_option("--bin", o.bin, "Directory of the built tools")->required();
    app.add_option("--src", o.src, "Source tree (for the test bed scripts)")->required();
    app.add_option("--schedules", o.schedules, "How many seeded schedules");
    app.add_option("--seed", o.seed, "Seed of the run");
    app.add_option("--first", o.first, "Index of the first schedule (to replay one)");
    app.add_flag("-v", o.verbose, "Print every fault");
    app.add_option("--placement", o.placement, "The config's placement policy")
        ->check(CLI::IsMember({"sticky", "follow-master"}));
    app.add_option("--backend", o.backend,
                   "sim (lease and fencing), or command (the sim's files, no lease)")
        ->check(CLI::IsMember({"sim", "command"}));
    CLI11_PARSE(app, argc, argv);
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // CTest's log shows each line as it comes
    // Paths go into configs read by other processes: "--src ." must not become a relative path.
    o.bin = std::filesystem::absolute(o.bin).lexically_normal().string();
    o.src = std::filesystem::absolute(o.src).lexically_normal().string();
    while (o.src.size() > 1 && o.src.back() == '/') o.src.pop_back();
    while (o.bin.size() > 1 && o.bin.back() == '/') o.bin.pop_back();

    std::vector<std::string> rules = table_rules(o.src + "/lib/mgmtvm/reconcile.cc");
    char tmpl[] = "/tmp/storkit-fault.XXXXXX";
    if (!mkdtemp(tmpl)) {
        fmt::print("mgmtvm_fault: error: mkdtemp: {}\n", strerror(errno));
        return 2;
    }
    o.work = tmpl;
    ::chmod(o.work.c_str(), 0755);
    ::signal(SIGINT, on_signal);
    ::signal(SIGTERM, on_signal);
    ::signal(SIGPIPE, on_closed_stdout);
    Totals t;
    int rc = 0;
    auto start = std::chrono::steady_clock::now();
    {
        Cluster c(o);
        try {
            self_check(o.work);
            libvirt_nodes(o, {"up", std::to_string(kPool)});
            for (int s = o.first; s < o.first + o.schedules && !g_stop; ++s) {
                Schedule(c, o, t, s).run();
                ++t.schedules;
            }
        } catch (const std::exception& e) {
            fmt::print("harness error: {}\n", e.what());
            rc = 2;
        }
        double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        print_summary(t, rules, c, secs);
    }
    try {
        libvirt_nodes(o, {"down"});
    } catch (const std::exception& e) {
        fmt::print("harness error: {}\n", e.what());
        rc = 2;
    }
    if (!oracle_settled(std::chrono::milliseconds(5000)))
        fmt::print("harness: a libvirt question is still blocked\n");
    std::filesystem::remove_all(o.work);
    long failed = t.failed_schedules + (g_stop ? 1 : 0);
    fmt::print("{} passed, {} failed\n", t.schedules - std::min<long>(failed, t.schedules), failed);
    std::fflush(nullptr);
    // An abandoned libvirt question may still hold a thread: leave without static destructors.
    _exit(rc ? rc : failed ? 1 : 0);
}
