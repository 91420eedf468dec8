// The `sim` storage backend: a directory that plays a whole storage cluster on one machine, for
// the demo and for fault-injection tests. Every node's tool points at the same directory:
//
//   DIR/master             the master node's name
//   DIR/volume             the VM volume's health: "ok" (also when missing) or "fail";
//                          anything else is an unknown answer
//   DIR/nodes/NODE/service that node's storage service health, same values
//   DIR/nodes/NODE/lease   optional: "fail" makes that node's lease operations fail
//   DIR/clock              optional: the storage's clock in seconds (tests drive time with it)
//   DIR/fence              optional: "fail" makes fencing fail
//   DIR/lease.json         the lease, written by storkit under DIR/lease.lock (flock)
//   DIR/fence.log          one JSON line per fencing
//   DIR/shared/KEY         shared records (maintenance, last decisions)
#pragma once

#include <string>

#include "mgmtvm/storage.h"

namespace storkit {

struct SimStorageConfig {
    std::string dir;
};

// The keys of the `storage` object with backend "sim".
inline constexpr std::string_view kSimStorageKeys[] = {"backend", "dir"};

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

    bool supports_fence() const override { return true; }
    StorageAnswer fence(const VmLease& previous) override;

    bool supports_shared() const override { return true; }
    std::optional<std::string> shared_read(const std::string& key) override;
    void shared_write(const std::string& key, const std::string& value) override;

    double now() const override;

  private:
    StorageAnswer health(const std::string& file) const;
    bool lease_cut_off() const;
    VmLease read_lease() const;  // caller holds the lease lock
    void write_lease(const VmLease& l) const;
    SimStorageConfig cfg_;
    StorageContext ctx_;
};

}  // namespace storkit
