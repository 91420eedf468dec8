// The VM's disk as the fault harness uses it (the sim's DIR/disk, see mgmtvm/backend_sim.h):
// one writer process per running copy of the VM, and the check of the disk's write log.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace fault {

// A writer per copy: each is a new client of the disk (as each qemu process is a new Ceph
// client), opened before its process starts, so a fencing that comes later blocklists it.
class Writers {
  public:
    Writers(std::string writer_bin, std::string sim_dir);
    ~Writers();
    Writers(const Writers&) = delete;
    Writers& operator=(const Writers&) = delete;

    // A copy runs on `node`: opens a new client and starts its writer; returns the client id.
    uint64_t start(const std::string& node);
    // The copy is gone: kills its writer (by pid), waits for it and closes the client.
    void stop(uint64_t client);
    void stop_all();
    size_t live() const { return pids_.size(); }
    // Writers that died on their own (an error in the writer is a harness failure): reaped,
    // their clients closed.
    std::vector<uint64_t> reap_dead();
    bool blocklisted(uint64_t client) const;

  private:
    std::string bin_, sim_dir_;
    std::map<uint64_t, pid_t> pids_;
};

// Reads DIR/disk/log as it grows and checks the storage's invariant: accepted writes of two
// copies never interleave. Once client B's write was accepted after client A's, no write of A
// may be accepted again.
class WriteLog {
  public:
    explicit WriteLog(std::string sim_dir);
    // Reads the new lines; returns a description of each violation (one per pair of clients).
    std::vector<std::string> check();
    long accepted() const { return accepted_; }
    long refused() const { return refused_; }

  private:
    std::string path_;
    uint64_t offset_ = 0;
    std::string partial_;
    uint64_t last_ = 0;                        // the client of the last accepted write
    std::map<uint64_t, uint64_t> superseded_;  // client -> the client that wrote after it
    std::map<uint64_t, std::string> node_of_;  // client -> node
    std::set<std::pair<uint64_t, uint64_t>> reported_;
    long accepted_ = 0, refused_ = 0;
};

}  // namespace fault
