// The `ceph` storage backend: a Ceph cluster through librados and librbd, in this process.
//   service   a monitor quorum exists (quorum_status; a plain `health` can answer a stale OK
//             for seconds after every monitor died) and this node's monitor, if it has one,
//             is in it
//   volume    the image opens and its first block reads back
//   master    this node's monitor is the quorum leader
//   lease     xattr + shared lock on the object storkit.IMAGE in the pool (ceph_lease.h)
//   fence     every client that has the image open (its watchers) is blocklisted, and the call
//             waits for the OSD map that carries the blocklist before it answers "fenced"
//   shared    omap entries on the same object storkit.IMAGE
// Every call is bounded by storage.timeout_s, connect included: librados is told so
// (client_mount_timeout, rados_mon_op_timeout, rados_osd_op_timeout), and the call runs on
// its own thread in case it does not keep to it.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "mgmtvm/ceph_client.h"
#include "mgmtvm/storage.h"

namespace storkit {

struct CephStorageConfig {
    ceph::ClientOptions client;
    std::string image;
    std::map<std::string, std::string> monitors;  // storkit node -> its monitor's name
    double blocklist_s = 3600;                    // how long a fenced client stays blocklisted
};

inline constexpr std::string_view kCephStorageKeys[] = {
    "backend", "conf", "client", "pool", "image", "timeout_s", "monitors", "blocklist_s"};

CephStorageConfig parse_ceph_storage(const ConfigNode& cfg);

class CephStorage : public Storage {
  public:
    CephStorage(CephStorageConfig cfg, StorageContext ctx);  // connects nothing yet
    std::string backend() const override { return "ceph"; }
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

    bool supports_clients() const override { return true; }
    StorageAnswer volume_clients() override;  // the image's watchers

    bool supports_shared() const override { return true; }
    std::optional<std::string> shared_read(const std::string& key) override;
    void shared_write(const std::string& key, const std::string& value) override;
    bool shared_replace(const std::string& key, const std::optional<std::string>& expected,
                        const std::string& value) override;

    std::chrono::milliseconds longest(Call) const override { return cfg_.client.timeout; }

    // The lease object's name.
    std::string object() const { return "storkit." + cfg_.image; }

  private:
    std::string monitor() const;  // this node's monitor name
    CephStorageConfig cfg_;
    StorageContext ctx_;
    // Shared with calls still running past their deadline on their own thread.
    std::shared_ptr<ceph::Client> client_;
};

}  // namespace storkit
