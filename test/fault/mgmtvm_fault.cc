// Fault injection for the management-VM reconcile: real libvirtd daemons (test driver), the sim
// storage backend with a driven clock, and the built mgmtvm-reconcile ticking on every node.
// A seeded scheduler injects faults between ticks and checks after every tick that no two copies
// of the VM run on live nodes with a usable disk, and that once the faults stop the VM runs on
// exactly one node within lease.ticks + 2 ticks.
//
//   mgmtvm_fault --bin BUILD/bin --src SOURCE [--schedules N] [--seed S] [-v]
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "core/exec.h"
#include "core/statefile.h"
#include "mgmtvm/virt.h"

using namespace storkit;
using std::chrono::milliseconds;

namespace {

// Ctrl-C or a kill ends the run after the current schedule, with the test bed removed.
volatile sig_atomic_t g_stop = 0;
void on_signal(int) {
    g_stop = 1;
}

constexpr int kPool = 5;  // daemons started once; a schedule uses 3 to 5 of them
constexpr int kLeaseTicks = 3;
constexpr double kTickS = 10;     // on the sim clock
constexpr int kFaultRounds = 10;  // ticks with faults, then the cluster is healed

struct Options {
    std::string bin, src, work;
    int schedules = 200;
    unsigned seed = 1;
    bool verbose = false;
};

struct Node {
    std::string name;
    int index = 0;
    bool dead = false, frozen = false, storage_failed = false;
    bool hung = false;            // the node's management plane hangs: no ticks, libvirtd frozen,
                                  // but its VM keeps running and writing until it is fenced
    bool frozen_running = false;  // the VM's state when libvirtd was frozen
    double copy_since = -1;       // sim time the current copy was first seen; -1: none
};

struct Totals {
    long schedules = 0, ticks = 0, faults = 0, double_runs = 0, raw_overlaps = 0;
    long recovery_failures = 0;
    std::map<std::string, long> by_kind;
    std::vector<int> recovery_ticks;
};

std::string sh(const Options& o, const std::vector<std::string>& args) {
    ExecRequest req;
    req.argv = {o.src + "/scripts/testbed/libvirt-nodes"};
    req.argv.insert(req.argv.end(), args.begin(), args.end());
    req.env = {{"BASE", o.work + "/lv"}};
    req.timeout = milliseconds(120000);  // a loaded machine starts libvirtd slowly
    ExecResult r = run_command(req);
    if (!r.ok())
        throw std::runtime_error(
            fmt::format("libvirt-nodes {}: {} {}", args[0], r.describe(), r.err));
    return r.out;
}

class Cluster {
  public:
    Cluster(const Options& o, std::mt19937& rng) : o_(o), rng_(rng) {}

    std::string uri(const Node& n) const {
        return fmt::format("test+unix:///default?socket={}/lv/node{}/run/libvirt-sock", o_.work,
                           n.index);
    }
    pid_t daemon_pid(const Node& n) const {
        return std::stoi(*read_file(fmt::format("{}/lv/node{}/libvirtd.pid", o_.work, n.index)));
    }

    // A fresh schedule of `count` nodes: every daemon up and empty, a new sim directory.
    void reset(int count, int schedule) {
        for (Node& n : nodes_) {
            if (n.frozen) ::kill(daemon_pid(n), SIGCONT);
            if (n.dead) sh(o_, {"start", std::to_string(n.index)});
        }
        nodes_.clear();
        for (int i = 1; i <= count; ++i) nodes_.push_back({fmt::format("node{}", i), i});
        // A node whose holder connection is gone would forget every domain between two ticks:
        // give it a fresh daemon rather than blame the reconcile for it.
        for (int i = 1; i <= kPool; ++i) {
            try {
                sh(o_, {"check", std::to_string(i)});
            } catch (const std::exception&) {
                fmt::print("node{}: test bed daemon or holder lost; restarting it\n", i);
                sh(o_, {"kill", std::to_string(i)});
                sh(o_, {"start", std::to_string(i)});
            }
        }
        for (Node& n : nodes_) virt::stop(uri(n), "mgmt", milliseconds(0), milliseconds(5000));
        dir_ = fmt::format("{}/s{}", o_.work, schedule);
        std::filesystem::remove_all(dir_);
        make_dirs(dir_ + "/sim");
        make_dirs(dir_ + "/state");
        now_ = 1000000;
        write_file_atomic(dir_ + "/sim/clock", fmt::format("{}\n", now_));
        write_file_atomic(dir_ + "/sim/master", "node1\n");
        nlohmann::json nodes = nlohmann::json::object();
        for (const Node& n : nodes_) nodes[n.name] = {{"libvirt", uri(n)}};
        nlohmann::json cfg = {
            {"node", "node1"},
            {"vm", {{"name", "mgmt"}, {"domain_xml", o_.src + "/test/fixtures/mgmt.xml"}}},
            {"nodes", nodes},
            {"storage", {{"backend", "sim"}, {"dir", dir_ + "/sim"}}},
            {"lease", {{"ticks", kLeaseTicks}, {"tick_s", kTickS}}},
            {"deadlines", {{"tick_s", 10}, {"peer_s", 1.0}, {"stop_s", 0.2}}},
            {"state_dir", dir_ + "/state"}};
        write_file_atomic(dir_ + "/mgmtvm.json", cfg.dump(2));
    }

    // Injects one random fault; returns its name.
    std::string inject() {
        Node& n = nodes_[pick(nodes_.size())];
        // Each single-node fault is twice as likely as a whole-cluster power loss.
        switch (pick(19) / 2) {
            case 0: set_storage(n, true); return "storage fails";
            case 1: set_storage(n, false); return "storage recovers";
            case 2:
                if (n.dead || n.frozen) return "none";
                n.frozen_running = running(n);
                ::kill(daemon_pid(n), SIGSTOP);
                n.frozen = true;
                return "libvirtd stopped";
            case 3:
                if (!n.frozen || n.hung) return "none";
                ::kill(daemon_pid(n), SIGCONT);
                n.frozen = false;
                return "libvirtd continued";
            case 4:
                if (n.dead) return "none";
                power(n, false);
                power(n, true);
                return "libvirtd killed and restarted";
            case 5:
                if (n.dead) {
                    power(n, true);
                    return "node powered on";
                }
                power(n, false);
                return "node powered off";
            case 6: move_master(); return "master moves";
            case 7:
                if (n.dead) return "none";
                if (n.hung) {
                    ::kill(daemon_pid(n), SIGCONT);
                    n.hung = n.frozen = false;
                    return "node resumes";
                }
                if (!n.frozen) n.frozen_running = running(n), ::kill(daemon_pid(n), SIGSTOP);
                n.hung = n.frozen = true;
                // The storage cluster notices a hung node and elects another master.
                if (read_file(dir_ + "/sim/master").value_or("") == n.name + "\n") move_master();
                return "node hangs";
            case 8: {
                bool failing = read_file(dir_ + "/sim/fence").value_or("") == "fail\n";
                write_file_atomic(dir_ + "/sim/fence", failing ? "ok\n" : "fail\n");
                return failing ? "fencing works again" : "fencing fails";
            }
            default:
                for (Node& m : nodes_) power(m, false);
                return "whole-cluster power loss";
        }
    }

    // Every fault repaired: the storage first, then every node back, then a master.
    void heal() {
        for (Node& n : nodes_) {
            set_storage(n, false);
            if (n.frozen) ::kill(daemon_pid(n), SIGCONT), n.frozen = false;
            n.hung = false;
            if (n.dead) power(n, true);
        }
        write_file_atomic(dir_ + "/sim/fence", "ok\n");
        move_master();
    }

    // One tick on every live node at once (cron fires on every node in the same minute).
    int tick_all(Totals& t) {
        std::vector<std::future<ExecResult>> runs;
        for (const Node& n : nodes_) {
            if (n.dead || n.hung) continue;
            ExecRequest req;
            req.argv = {o_.bin + "/mgmtvm-reconcile", "--config", dir_ + "/mgmtvm.json", "--node",
                        n.name};
            req.timeout = milliseconds(20000);
            runs.push_back(std::async(std::launch::async, run_command, req));
        }
        int overlaps = 0;
        for (auto& f : runs) {
            ExecResult r = f.get();
            ++t.ticks;
            if (r.exit_code == 75) ++overlaps;
            if (o_.verbose && !r.err.empty()) fmt::print("    {}", r.err);
        }
        return overlaps;
    }

    void advance() {
        now_ += kTickS;
        write_file_atomic(dir_ + "/sim/clock", fmt::format("{}\n", now_));
    }

    struct Copies {
        int usable = 0, raw = 0;
        std::string where;
    };

    // Where the VM runs now (the harness's own view: a frozen daemon keeps what it had), and
    // how many of those copies could write to the disk.
    Copies observe() {
        std::vector<nlohmann::json> fences;
        if (std::optional<std::string> log = read_file(dir_ + "/sim/fence.log")) {
            std::istringstream in(*log);
            for (std::string line; std::getline(in, line);)
                if (!line.empty()) fences.push_back(nlohmann::json::parse(line));
        }
        Copies c;
        for (Node& n : nodes_) {
            bool on = !n.dead && (n.frozen ? n.frozen_running : running(n));
            if (!on) {
                n.copy_since = -1;
                continue;
            }
            if (n.copy_since < 0) n.copy_since = now_;
            bool fenced = std::any_of(fences.begin(), fences.end(), [&](const nlohmann::json& f) {
                return f["by"] != n.name && f["time"].get<double>() >= n.copy_since;
            });
            ++c.raw;
            c.where += (c.where.empty() ? "" : ",") + n.name;
            if (!n.storage_failed && !fenced) ++c.usable;
            if (fenced) c.where += "(fenced)";
            if (n.storage_failed) c.where += "(no storage)";
        }
        return c;
    }

    // Each node's last decision, the lease and the test bed's health: for a failed schedule.
    void explain() {
        for (const Node& n : nodes_) {
            std::string last = "no state";
            if (std::optional<std::string> t =
                    read_file(fmt::format("{}/state/mgmtvm.{}.json", dir_, n.name)))
                last = nlohmann::json::parse(*t)["last"].value("msg", "?");
            bool bed = true;
            try {
                sh(o_, {"check", std::to_string(n.index)});
            } catch (const std::exception&) {
                bed = false;
            }
            fmt::print("  {}: dead={} frozen={} running={} test bed {}: {}\n", n.name, n.dead,
                       n.frozen, !n.dead && !n.frozen && running(n), bed ? "ok" : "BROKEN", last);
        }
        fmt::print("  lease: {}  master: {}",
                   read_file(dir_ + "/sim/lease.json").value_or("none\n"),
                   read_file(dir_ + "/sim/master").value_or("none\n"));
    }

    void shutdown_pool() {
        for (Node& n : nodes_)
            if (n.frozen) ::kill(daemon_pid(n), SIGCONT);
    }

  private:
    size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

    bool running(const Node& n) const {
        return virt::query(uri(n), "mgmt", milliseconds(2000)).active == Tri::kYes;
    }

    void set_storage(Node& n, bool failed) {
        std::string d = fmt::format("{}/sim/nodes/{}", dir_, n.name);
        make_dirs(d);
        write_file_atomic(d + "/service", failed ? "fail\n" : "ok\n");
        write_file_atomic(d + "/lease", failed ? "fail\n" : "ok\n");
        n.storage_failed = failed;
    }

    void power(Node& n, bool on) {
        if (on && n.dead) {
            sh(o_, {"start", std::to_string(n.index)});
            n.dead = false;
        } else if (!on && !n.dead) {
            if (n.frozen) ::kill(daemon_pid(n), SIGCONT), n.frozen = false;
            sh(o_, {"kill", std::to_string(n.index)});
            n.dead = true;
            n.hung = false;
        }
    }

    void move_master() {
        std::vector<const Node*> candidates;
        for (const Node& n : nodes_)
            if (!n.dead && !n.storage_failed && !n.hung) candidates.push_back(&n);
        std::string m = candidates.empty() ? "" : candidates[pick(candidates.size())]->name;
        write_file_atomic(dir_ + "/sim/master", m + "\n");
    }

    const Options& o_;
    std::mt19937& rng_;
    std::vector<Node> nodes_;
    std::string dir_;
    double now_ = 0;
};

int median(std::vector<int> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

void run_schedule(Cluster& c, std::mt19937& rng, int index, const Options& o, Totals& t) {
    int count = std::uniform_int_distribution<int>(3, kPool)(rng);
    c.reset(count, index);
    auto check = [&](const char* phase, int round) {
        Cluster::Copies copies = c.observe();
        if (copies.raw > 1) ++t.raw_overlaps;
        if (copies.usable > 1) {
            ++t.double_runs;
            fmt::print("DOUBLE RUN: schedule {} (seed {}), {} round {}: {}\n", index, o.seed, phase,
                       round, copies.where);
        }
        return copies;
    };
    for (int round = 0; round < kFaultRounds; ++round) {
        if (std::uniform_real_distribution<double>(0, 1)(rng) < 0.4) {
            std::string kind = c.inject();
            if (kind != "none") ++t.faults, ++t.by_kind[kind];
            if (o.verbose) fmt::print("  schedule {} round {}: {}\n", index, round, kind);
        }
        if (c.tick_all(t) > 0) fmt::print("overlapping tick in schedule {}\n", index);
        check("fault", round);
        c.advance();
    }
    c.heal();
    constexpr int kLimit = kLeaseTicks + 2;
    for (int round = 1; round <= kLimit + 5; ++round) {
        c.tick_all(t);
        Cluster::Copies copies = check("recovery", round);
        c.advance();
        if (copies.raw == 1 && copies.usable == 1) {
            t.recovery_ticks.push_back(round);
            if (round > kLimit) {
                ++t.recovery_failures;
                fmt::print("SLOW RECOVERY: schedule {} (seed {}): {} ticks\n", index, o.seed,
                           round);
            }
            return;
        }
    }
    ++t.recovery_failures;
    fmt::print("NO RECOVERY: schedule {} (seed {}) within {} ticks\n", index, o.seed, kLimit + 5);
    c.explain();
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app("Fault injection for mgmtvm-reconcile", "mgmtvm_fault");
    app.add_option("--bin", o.bin, "Directory of the built tools")->required();
    app.add_option("--src", o.src, "Source tree (for the test bed scripts)")->required();
    app.add_option("--schedules", o.schedules, "How many seeded schedules");
    app.add_option("--seed", o.seed, "Seed of the first schedule");
    app.add_flag("-v", o.verbose, "Print every fault");
    CLI11_PARSE(app, argc, argv);
    // Both go into the configs the ticks read: "--src ." must not become a relative domain_xml,
    // which every tick rejects (exit 2) while the schedules still passed.
    o.bin = std::filesystem::absolute(o.bin).lexically_normal().string();
    o.src = std::filesystem::absolute(o.src).lexically_normal().string();

    char tmpl[] = "/tmp/storkit-fault.XXXXXX";
    o.work = mkdtemp(tmpl);
    ::chmod(o.work.c_str(), 0755);
    std::mt19937 rng(o.seed);
    ::signal(SIGINT, on_signal);
    ::signal(SIGTERM, on_signal);
    Totals t;
    int rc = 0;
    sh(o, {"up", std::to_string(kPool)});
    auto start = std::chrono::steady_clock::now();
    {
        Cluster c(o, rng);
        try {
            for (int s = 0; s < o.schedules && !g_stop; ++s) {
                run_schedule(c, rng, s, o, t);
                ++t.schedules;
            }
        } catch (const std::exception& e) {
            fmt::print("harness error: {}\n", e.what());
            rc = 2;
        }
        c.shutdown_pool();
    }
    sh(o, {"down"});
    std::filesystem::remove_all(o.work);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    fmt::print("schedules {}  ticks {}  faults {}  double-runs {}  recovery failures {}\n",
               t.schedules, t.ticks, t.faults, t.double_runs, t.recovery_failures);
    fmt::print("time to recover after the last fault (ticks): median {}  worst {}  (limit {})\n",
               median(t.recovery_ticks),
               t.recovery_ticks.empty()
                   ? 0
                   : *std::max_element(t.recovery_ticks.begin(), t.recovery_ticks.end()),
               kLeaseTicks + 2);
    fmt::print("ticks with a second, fenced or storage-less copy still visible: {}\n",
               t.raw_overlaps);
    std::string kinds;
    for (const auto& [k, v] : t.by_kind)
        kinds += fmt::format("{}{}: {}", kinds.empty() ? "" : ", ", k, v);
    fmt::print("faults by kind: {}\n", kinds);
    fmt::print("wall time {:.0f} s\n", secs);
    long failed = t.double_runs + t.recovery_failures + (g_stop ? 1 : 0);
    fmt::print("{} passed, {} failed\n", t.schedules - std::min<long>(failed, t.schedules), failed);
    if (rc) return rc;
    return failed ? 1 : 0;
}
