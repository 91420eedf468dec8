// The lease's part of one tick: keep it alive where the VM runs, take a confirmed-down node's
// lease over, and before a start own a fresh lease and fence every other client of the VM's
// volume. What must be fenced is kept in the node's state (node_state.h), so a tick killed
// half-way fences on the next one.
#pragma once

#include "mgmtvm/config.h"
#include "mgmtvm/maintenance.h"
#include "mgmtvm/node_state.h"
#include "mgmtvm/storage.h"
#include "mgmtvm/tick.h"

namespace storkit {

// Renews the lease where the VM runs (or may), or reads it; sets r.lease and the lease
// observations (view, holder, renewals overdue).
void keep_lease(const MgmtvmConfig& cfg, Storage& storage, bool dry_run, NodeState& st,
                TickResult& r);

// A lease held by a node an operator confirmed down (under the epoch it held then) counts as
// free: it may be taken now, behind a fence (r.break_from).
void take_confirmed_down(const Maintenance& record, TickResult& r);

// Before a start: a fresh lease and, unless this node knows the other clients are cut off
// under its epoch, a fencing. Returns false (with the reason in r) when the VM must not start.
bool prepare_start(const MgmtvmConfig& cfg, Storage& storage, NodeState& st, TickResult& r);

}  // namespace storkit
