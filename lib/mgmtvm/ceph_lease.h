// The VM lease in one RADOS object, renewable by a new process every tick (an exclusive RADOS
// lock cannot be: its holder is the connection, new in every process). The object holds:
//   xattr "storkit.lease"  the record: {"node", "epoch", "expires", "released"} as JSON, with
//                          expires on the writer's clock (what every node reads)
//   lock "storkit.lease"   a shared cls lock tagged with the holder's node name, for the lease's
//                          duration: while one is live the OSD refuses another node's, on the
//                          OSD's own clock, whatever the nodes' clocks say
// Every change is one atomic write operation guarded by a compare of the whole record as read
// (an epoch, a renewal or a release in between makes it fail), so of two nodes that race one
// wins, and a holder whose epoch was superseded can never renew.
#pragma once

#include <string>

#include "mgmtvm/ceph_client.h"
#include "mgmtvm/vm_lease.h"

namespace storkit::ceph {

class Lease {
  public:
    Lease(Client& client, std::string object, std::string node);
    VmLeaseOutcome read();
    VmLeaseOutcome acquire(double seconds);
    VmLeaseOutcome renew(double seconds);
    VmLeaseOutcome release();
    // Takes the lease from `held` (an operator confirmed that node down) even while it is live.
    VmLeaseOutcome break_from(double seconds, const VmLease& held);

  private:
    struct Record;
    Record load();
    // Takes the lease with the next epoch; first breaks the locks of `displaced` (a node that
    // released the lease or was confirmed down), if not empty.
    VmLeaseOutcome take(double seconds, const Record& before, const std::string& displaced);
    // Breaks the lock entries of `node` (their cookie names it), never another node's: a lock
    // taken meanwhile by a new holder stays.
    void break_lockers(const std::string& node);
    Client& client_;
    std::string object_;
    std::string node_;
};

}  // namespace storkit::ceph
