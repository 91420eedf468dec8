// The `sim` storage backend: a directory that plays a whole storage cluster on one machine, for
// the demo and for fault-injection tests. Every node's tool points at the same directory:
//
//   DIR/master             the master node's name ("" or missing: an unknown answer)
//   DIR/volume             the VM volume's health: "ok" (also when missing) or "fail";
//                          anything else is an unknown answer
//   DIR/nodes/NODE/service that node's storage service health, same values
//   DIR/clock              optional: the storage's clock in seconds (tests drive time with it)
//   DIR/lease.json         the lease, written by storkit under DIR/lease.lock (flock)
//   DIR/fence.log          one JSON line per fencing, with the client ids it blocklisted
//   DIR/shared/KEY         shared records (maintenance, last decisions)
//
// Faults, one part of the storage at a time (each file optional; missing means "ok"):
//   DIR/nodes/NODE/volume  the volume question asked from NODE
//   DIR/nodes/NODE/master  NODE's "am I the master?" question
//   DIR/nodes/NODE/lease   NODE's lease operations
//   DIR/nodes/NODE/shared  NODE's shared-store reads and writes
//   DIR/fence              fencing, from every node
// Each holds one of:
//   ok          the normal answer
//   fail        the storage says no: unhealthy, not the master; lease operations and fencing
//               are refused and not done (kError, kNo); shared reads and writes throw
//   slow [S]    the call sleeps S seconds (default 60) first; past storage.timeout_s it is an
//               unknown answer (kUnknown, kError, a throw). It is carried out as if "ok" when
//               the sleep ends, if the process still runs then (a late request)
//   stall [S]   the caller blocks S seconds (default 60) before the call, past storage.timeout_s:
//               a storage client that does not honour its deadlines (a Ceph client without its
//               op timeouts waits for good). Only the tick's own deadline ends such a tick; this
//               is what the tests of that deadline use. The call then goes on as "ok"
//   anything else  an unknown answer: the question answers unknown; a lease operation, a
//               fencing or a shared write is carried out but its answer is lost (kError,
//               kUnknown, a throw); a shared read throws
// The service file DIR/nodes/NODE/service takes the same values.
//
// Every call is bounded by storage.timeout_s (default 2 s): the call runs on its own thread
// and an answer that comes later is an unknown one (CONTRIBUTING: every storage call has a
// deadline).
//
// The VM's disk (SimDisk), for the fault harness: each running copy of the VM is a client of the
// disk, a new one per copy as each qemu process is a new Ceph client. All under DIR/disk/lock:
//   DIR/disk/next          the next client id
//   DIR/disk/clients       one line "ID NODE" per client that has the disk open
//   DIR/disk/blocklist     one client id per line: its writes are refused from then on
//   DIR/disk/log           one line per write: "ok ID NODE SEQ" or "refused ID NODE SEQ"
// fence() blocklists every registered client except those of the fencing node, as Ceph's
// `osd blocklist` does for the image's watchers; a client registered later may write.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "mgmtvm/storage.h"

namespace storkit {

struct SimStorageConfig {
    std::string dir;
    std::chrono::milliseconds timeout{2000};  // storage.timeout_s: every call's deadline
};

// The keys of the `storage` object with backend "sim".
inline constexpr std::string_view kSimStorageKeys[] = {"backend", "dir", "timeout_s"};

// Reads the `storage` object of a config (backend "sim"). Problems go to `cfg`'s errors, or
// throw ConfigError.
SimStorageConfig parse_sim_storage(const ConfigNode& cfg);

class SimStorage : public Storage {
  public:
    SimStorage(SimStorageConfig cfg, StorageContext ctx);
    std::string backend() const override { return "sim"; }
    StorageAnswer service_healthy() override;
    StorageAnswer volume_healthy() override;
    StorageAnswer is_master() override;

    bool supports_lease() const override { return true; }
    VmLeaseOutcome lease_read() override;
    VmLeaseOutcome lease_acquire(double seconds) override;
    VmLeaseOutcome lease_renew(double seconds) override;
    VmLeaseOutcome lease_release() override;
    VmLeaseOutcome lease_break(double seconds, const VmLease& held) override;

    bool supports_fence() const override { return true; }
    StorageAnswer fence(uint64_t epoch) override;

    bool supports_shared() const override { return true; }
    std::optional<std::string> shared_read(const std::string& key) override;
    void shared_write(const std::string& key, const std::string& value) override;
    // Under DIR/shared/.KEY.lock.
    bool shared_replace(const std::string& key, const std::optional<std::string>& expected,
                        const std::string& value) override;

    double now() const override;
    std::chrono::milliseconds longest(Call) const override { return cfg_.timeout; }

  private:
    // Each call runs on its own thread with copies of these (a late one may outlive this object).
    SimStorageConfig cfg_;
    StorageContext ctx_;
};

// The VM's disk in a sim directory (see above). Every call takes DIR/disk/lock.
class SimDisk {
  public:
    explicit SimDisk(std::string dir);  // the sim's DIR
    // Registers a new client of `node` (a copy of the VM opened the disk); returns its id.
    uint64_t open(const std::string& node) const;
    // Unregisters a client (its copy stopped).
    void close(uint64_t client) const;
    // One write of `client`: logged, and refused when the client is blocklisted.
    bool write(uint64_t client, const std::string& node, uint64_t seq) const;
    // Blocklists every registered client whose node is not `node`; returns their ids.
    std::vector<uint64_t> blocklist_all_but(const std::string& node) const;

  private:
    std::string dir_;  // DIR/disk
};

}  // namespace storkit
