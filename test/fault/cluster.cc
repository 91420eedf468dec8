#include "cluster.h"

#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <stdexcept>
#include <thread>

#include "core/exec.h"
#include "core/statefile.h"
#include "oracle.h"

namespace fault {

using std::chrono::milliseconds;

namespace {

// A daemon that was SIGCONTed may still serve requests that dead ticks left in its socket (a
// start sent just before it froze): give it a moment before asking it where the VM runs.
void settle() {
    std::this_thread::sleep_for(milliseconds(100));
}

}  // namespace

Cluster::~Cluster() {
    for (Node& n : nodes_)
        if (n.frozen && !n.dead) ::kill(daemon_pid(n), SIGCONT);
    writers_.reset();
}

std::string Cluster::uri(const Node& n) const {
    return fmt::format("test+unix:///default?socket={}/lv/node{}/run/libvirt-sock", o_.work,
                       n.index);
}

pid_t Cluster::daemon_pid(const Node& n) const {
    std::string p = fmt::format("{}/lv/node{}/libvirtd.pid", o_.work, n.index);
    pid_t pid = std::stoi(storkit::read_file(p).value_or("0"));
    // kill(0, ...) would signal the harness's own process group.
    if (pid <= 1) throw std::runtime_error(p + ": no daemon pid");
    return pid;
}

void libvirt_nodes(const Options& o, const std::vector<std::string>& args) {
    storkit::ExecRequest req;
    req.argv = {o.src + "/scripts/testbed/libvirt-nodes"};
    req.argv.insert(req.argv.end(), args.begin(), args.end());
    req.env = {{"BASE", o.work + "/lv"}};
    req.timeout = milliseconds(120000);  // a loaded machine starts libvirtd slowly
    storkit::ExecResult r = storkit::run_command(req);
    if (!r.ok())
        throw std::runtime_error(
            fmt::format("libvirt-nodes {}: {} {}", args[0], r.describe(), r.err));
}

void Cluster::reset(int count, int schedule, std::mt19937& rng) {
    rng_ = &rng;
    for (Node& n : nodes_) {
        if (n.frozen && !n.dead) ::kill(daemon_pid(n), SIGCONT);
        if (n.dead) libvirt_nodes(o_, {"start", std::to_string(n.index)});
    }
    writers_.reset();
    log_.reset();
    nodes_.clear();
    for (int i = 1; i <= count; ++i) {
        Node n;
        n.name = fmt::format("node{}", i);
        n.index = i;
        nodes_.push_back(n);
    }
    // A node whose holder connection is gone would forget every domain between two ticks:
    // give it a fresh daemon rather than blame the reconcile for it.
    for (int i = 1; i <= kPool; ++i) {
        try {
            libvirt_nodes(o_, {"check", std::to_string(i)});
        } catch (const std::exception&) {
            fmt::print("node{}: test bed daemon or holder lost; restarting it\n", i);
            libvirt_nodes(o_, {"kill", std::to_string(i)});
            libvirt_nodes(o_, {"start", std::to_string(i)});
        }
    }
    for (Node& n : nodes_)
        if (!destroy_domain(uri(n), "mgmt"))
            throw std::runtime_error(n.name + ": cannot clear the VM of the last schedule");
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
    dir_ = fmt::format("{}/s{}", o_.work, schedule);
    std::filesystem::remove_all(dir_);
    storkit::make_dirs(dir_ + "/sim/disk");
    storkit::make_dirs(dir_ + "/state");
    now_ = 1000000;
    storkit::write_file_atomic(dir_ + "/sim/clock", fmt::format("{}\n", now_));
    storkit::write_file_atomic(dir_ + "/sim/master", "node1\n");
    storkit::write_file_atomic(dir_ + "/sim/fence", std::string(kFenceHealthy) + "\n");
    nlohmann::json nodes = nlohmann::json::object();
    for (const Node& n : nodes_) nodes[n.name] = {{"libvirt", uri(n)}};
    nlohmann::json cfg = {
        {"node", "node1"},
        {"vm", {{"name", "mgmt"}, {"domain_xml", o_.src + "/test/fixtures/mgmt.xml"}}},
        {"nodes", nodes},
        {"storage", storage_config()},
        {"lease", {{"ticks", kLeaseTicks}, {"tick_s", kTickS}}},
        {"deadlines", {{"tick_s", kTickDeadlineS}, {"peer_s", kPeerS}, {"stop_s", 0.2}}},
        {"state_dir", dir_ + "/state"},
        {"placement", o_.placement}};
    storkit::write_file_atomic(config(), cfg.dump(2));
    maint_ = {{"global", nullptr}, {"nodes", nlohmann::json::object()}};
    writers_ = std::make_unique<Writers>(o_.bin + "/mgmtvm_fault_writer", dir_ + "/sim");
    log_ = std::make_unique<WriteLog>(dir_ + "/sim");
}

nlohmann::json Cluster::storage_config() const {
    std::string sim = dir_ + "/sim";
    if (o_.backend == "sim")
        return {{"backend", "sim"}, {"dir", sim}, {"timeout_s", kStorageTimeoutS}};
    std::string tool = o_.src + "/test/fixtures/stor-sim";
    auto cmd = [&](const char* what) { return nlohmann::json::array({tool, sim, what}); };
    // A process per question: a deadline with room for start-up under load, still short of
    // a "slow" answer.
    return {{"backend", "command"},           {"service_health", cmd("service")},
            {"volume_health", cmd("volume")}, {"is_master", cmd("master")},
            {"shared_get", cmd("get")},       {"shared_put", cmd("put")},
            {"timeout_s", kSlowS / 2}};
}

void Cluster::freeze(Node& n, bool on) {
    ::kill(daemon_pid(n), on ? SIGSTOP : SIGCONT);
    n.frozen = on;
    if (!on) settle();
}

void Cluster::set_part(Node& n, const std::string& part, const std::string& value) {
    std::string d = fmt::format("{}/sim/nodes/{}", dir_, n.name);
    storkit::make_dirs(d);
    if (value.empty()) {
        std::filesystem::remove(d + "/" + part);
        n.storage.erase(part);
    } else {
        storkit::write_file_atomic(d + "/" + part, value + "\n");
        n.storage[part] = value;
    }
}

bool Cluster::fence_healthy() const {
    std::string f = storkit::read_file(dir_ + "/sim/fence").value_or("ok\n");
    return f == std::string(kFenceHealthy) + "\n";
}

std::string Cluster::master() const {
    std::string m = storkit::read_file(dir_ + "/sim/master").value_or("");
    return m.substr(0, m.find('\n'));
}

// The storage cluster's master: one of the live nodes that are not hung and whose storage
// service has no fault, other than `leaving`. kKeep keeps the current master if it still
// qualifies; kMove picks another one when there is one.
void Cluster::elect(Election how, const std::string& leaving) {
    std::string current = master();
    std::vector<const Node*> c;
    for (const Node& n : nodes_)
        if (!n.dead && !n.hung && !n.storage.count("service") && n.name != leaving) c.push_back(&n);
    bool qualifies =
        std::any_of(c.begin(), c.end(), [&](const Node* n) { return n->name == current; });
    if (how == Election::kKeep && qualifies) return;
    if (how == Election::kMove && c.size() > 1)
        c.erase(
            std::remove_if(c.begin(), c.end(), [&](const Node* n) { return n->name == current; }),
            c.end());
    storkit::write_file_atomic(dir_ + "/sim/master",
                               (c.empty() ? "" : c[pick(c.size())]->name) + "\n");
}

void Cluster::power(Node& n, bool on) {
    if (on && n.dead) {
        libvirt_nodes(o_, {"start", std::to_string(n.index)});
        n.dead = false;
        if (master().empty()) elect(Election::kKeep);  // a cluster that lost every node elects
    } else if (!on && !n.dead) {
        if (n.frozen) ::kill(daemon_pid(n), SIGCONT), n.frozen = false;
        libvirt_nodes(o_, {"kill", std::to_string(n.index)});
        n.dead = true;
        n.hung = false;
        // The VM dies with its node: its writer stops at once.
        if (n.running) writers_->stop(n.client), n.running = false, n.client = 0;
        if (master() == n.name) elect(Election::kKeep, n.name);
    }
}

std::vector<TickRun> Cluster::tick_all(MidTick& mid) {
    std::vector<std::string> names;
    for (const Node& n : nodes_)
        if (!n.dead && !n.hung) names.push_back(n.name);
    milliseconds limit(static_cast<long>(kTickDeadlineS * 1000) + 10000);
    std::vector<TickRun> runs =
        run_ticks(o_.bin + "/mgmtvm-reconcile", config(), names, dir_, mid, limit);
    if (mid.kind == MidTick::kStallDaemon) {
        ::kill(mid.daemon, SIGCONT);
        settle();
    }
    if (!mid.stall_file.empty()) {
        if (mid.stall_before)
            storkit::write_file_atomic(mid.stall_file, *mid.stall_before);
        else
            std::filesystem::remove(mid.stall_file);
    }
    return runs;
}

void Cluster::heal() {
    bool thawed = false;
    for (Node& n : nodes_) {
        while (!n.storage.empty()) set_part(n, n.storage.begin()->first, "");
        if (n.frozen && !n.dead) ::kill(daemon_pid(n), SIGCONT), n.frozen = false, thawed = true;
        n.hung = false;
        if (n.dead) power(n, true);
    }
    storkit::write_file_atomic(dir_ + "/sim/fence", std::string(kFenceHealthy) + "\n");
    maint_ = {{"global", nullptr}, {"nodes", nlohmann::json::object()}};
    std::filesystem::remove(dir_ + "/sim/shared/maintenance");
    elect(Election::kKeep);
    if (thawed) settle();
}

void Cluster::observe() {
    struct Ask {
        Node* node;
        std::future<Seen> seen;
    };
    std::vector<Ask> asks;
    std::vector<long> unanswered(nodes_.size(), 0);
    for (size_t i = 0; i < nodes_.size(); ++i) {
        Node& n = nodes_[i];
        if (n.dead || n.frozen) continue;  // a frozen daemon keeps the copy it had
        asks.push_back({&n, std::async(std::launch::async, ask_until_known, uri(n), "mgmt", 5,
                                       std::ref(unanswered[i]))});
    }
    std::vector<Node*> gone, started;
    for (Ask& a : asks) {
        Seen s = a.seen.get();
        if (s == Seen::kUnknown) {
            // Still no answer after every retry: the copy may be running, so a writer it has
            // keeps writing; the schedule fails, as the harness cannot vouch for it.
            ++unknown_;
            fmt::print("ORACLE: {} did not answer where the VM runs\n", a.node->name);
            continue;
        }
        bool on = s == Seen::kRunning;
        if (a.node->running && !on) gone.push_back(a.node);
        if (!a.node->running && on) started.push_back(a.node);
    }
    for (long u : unanswered) unanswered_ += u;
    // Stopped copies first: a copy that replaced another within a round writes after it.
    for (Node* n : gone) writers_->stop(n->client), n->running = false, n->client = 0;
    for (Node* n : started) n->client = writers_->start(n->name), n->running = true;
    starts_ += static_cast<long>(started.size());
}

void Cluster::advance() {
    now_ += kTickS;
    storkit::write_file_atomic(dir_ + "/sim/clock", fmt::format("{}\n", now_));
}

int Cluster::copies() const {
    return static_cast<int>(
        std::count_if(nodes_.begin(), nodes_.end(), [](const Node& n) { return n.running; }));
}

void Cluster::explain() const {
    auto file = [&](const std::string& f) {
        std::string t = storkit::read_file(dir_ + "/sim/" + f).value_or("");
        std::replace(t.begin(), t.end(), '\n', ' ');
        return t;
    };
    for (const Node& n : nodes_) {
        std::string last = "no state";
        try {
            std::optional<std::string> t =
                storkit::read_file(fmt::format("{}/state/mgmtvm.{}.json", dir_, n.name));
            if (t) last = nlohmann::json::parse(*t)["last"].value("msg", "?");
        } catch (const std::exception& e) {
            last = e.what();
        }
        std::string faults;
        for (const auto& [part, v] : n.storage) faults += fmt::format(" {}={}", part, v);
        fmt::print("  {}: dead={} frozen={} hung={} copy={} client={}{}: {}\n", n.name, n.dead,
                   n.frozen, n.hung, n.running, n.client, faults, last);
    }
    fmt::print("  master: {}  fence: {}  lease: {}\n", master(),
               storkit::read_file(dir_ + "/sim/fence").value_or("?"), file("lease.json"));
    fmt::print("  disk clients: {} blocklist: {}\n", file("disk/clients"), file("disk/blocklist"));
}

}  // namespace fault
