// The simulated cluster of the fault harness: a pool of libvirtd daemons (test driver, one per
// node), the sim storage directory with its driven clock, the faults the harness injects, and
// the harness's own knowledge of where the VM runs (oracle.h), with a disk writer per copy.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "disk.h"
#include "ticks.h"

namespace fault {

constexpr int kPool = 5;  // daemons started once; a schedule uses 3 to 5 of them
constexpr int kLeaseTicks = 3;
constexpr double kTickS = 10;             // the reconcile's period, on the sim clock
constexpr double kTickDeadlineS = 8;      // deadlines.tick_s: real time
constexpr double kPeerS = 0.5;            // deadlines.peer_s: what a frozen daemon costs a tick
constexpr double kStorageTimeoutS = 0.3;  // the sim's storage.timeout_s
constexpr double kSlowS = 2;              // a "slow" storage answer comes after this long
// Healthy fencing: Ceph's (osd blocklist, then the new osdmap) takes ~60 ms (TESTBED.md), and
// so does the sim's, so a crash can land between a takeover's lease and its fencing.
constexpr const char* kFenceHealthy = "slow 0.05";
// The parts of a node's storage that fail one at a time (DIR/nodes/NODE/PART in the sim).
constexpr const char* kStorageParts[] = {"service", "volume", "master", "lease", "shared"};

struct Options {
    std::string bin, src, work;
    int schedules = 200, first = 0;
    unsigned seed = 1;
    bool verbose = false;
    std::string placement = "sticky";  // the config's placement policy
    // "sim", or "command": the sim's directory through test/fixtures/stor-sim, with no lease
    // (and so no fencing): the published flow's safe behaviour.
    std::string backend = "sim";
};

// Runs scripts/testbed/libvirt-nodes with the pool under WORK/lv; throws on failure.
void libvirt_nodes(const Options& o, const std::vector<std::string>& args);

struct Node {
    std::string name;
    int index = 0;
    bool dead = false;     // powered off
    bool frozen = false;   // libvirtd SIGSTOPped: it cannot start or stop anything, so the copy
                           // it had when frozen is the copy it has
    bool hung = false;     // the whole management plane hangs: frozen and no ticks, but its VM
                           // keeps running and writing until it is fenced
    bool running = false;  // a copy of the VM runs here, as the harness knows it
    uint64_t client = 0;   // that copy's disk client
    std::map<std::string, std::string> storage;  // storage part -> fault ("lease" -> "fail")
};

class Cluster {
  public:
    explicit Cluster(const Options& o) : o_(o) {}
    ~Cluster();

    // A fresh schedule of `count` nodes: every daemon up and empty, a new sim directory.
    void reset(int count, int schedule, std::mt19937& rng);
    // Injects one random fault between two rounds; returns its name ("none": nothing fitted).
    std::string inject();
    // At times, a fault for the middle of the next round: it lands at a random point of the
    // target node's tick, whose last tick took `last_secs[node]` (0.1 s when not known).
    MidTick plan_mid_tick(const std::map<std::string, double>& last_secs);
    // One tick on every live node that is not hung; then a stalled daemon continues.
    std::vector<TickRun> tick_all(MidTick& mid);
    // Every fault repaired: storage, fencing, maintenance, every node back, a master elected.
    void heal();
    // Asks every daemon it can where the VM runs and starts or stops the copies' writers.
    void observe();
    void advance();

    const std::vector<Node>& nodes() const { return nodes_; }
    const std::string& dir() const { return dir_; }
    std::string config() const { return dir_ + "/mgmtvm.json"; }
    bool fence_healthy() const;
    int copies() const;  // copies running, as the harness knows them
    Writers& writers() { return *writers_; }
    WriteLog& log() { return *log_; }
    long unanswered() const { return unanswered_; }  // oracle questions that got no answer
    long starts() const { return starts_; }          // copies of the VM the oracle saw start
    const std::string& placement() const { return o_.placement; }
    const std::string& backend() const { return o_.backend; }
    long unknown() const { return unknown_; }  // nodes the oracle could not tell at all
    void explain() const;

  private:
    std::string uri(const Node& n) const;
    nlohmann::json storage_config() const;
    pid_t daemon_pid(const Node& n) const;
    size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(*rng_); }
    enum class Election { kKeep, kMove };

    Node& target();
    Node* pick_node(bool (*fits)(const Node&));
    void freeze(Node& n, bool on);
    void power(Node& n, bool on);
    std::string master() const;
    void elect(Election how, const std::string& leaving = "");
    void set_part(Node& n, const std::string& part, const std::string& value);
    // The faults (faults.cc): each returns its name, or "none" when it does not fit the node.
    std::string storage_fails(Node& n);
    std::string storage_recovers(Node& n);
    std::string fencing(Node& n);
    std::string libvirtd_stops(Node& n);
    std::string libvirtd_continues(Node& n);
    std::string power_cycle(Node& n);
    std::string power_toggle(Node& n);
    std::string master_moves(Node& n);
    std::string hang_toggle(Node& n);
    std::string maintenance(Node& n);
    std::string cluster_power_loss(Node& n);
    std::string state_corrupted(Node& n);

    const Options& o_;
    std::mt19937* rng_ = nullptr;
    std::vector<Node> nodes_;
    std::string dir_;
    double now_ = 0;
    std::unique_ptr<Writers> writers_;
    std::unique_ptr<WriteLog> log_;
    nlohmann::json maint_;  // the maintenance record the harness wrote last
    long unanswered_ = 0, unknown_ = 0, starts_ = 0;
};

}  // namespace fault
