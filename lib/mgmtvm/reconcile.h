// The management-VM decision of one tick: observations in, one action and its reason out.
// Pure: no I/O. The published flow (MISSION.md, job 1) is the baseline table in reconcile.cc;
// the lease, maintenance and the unknown-peer policy are extra columns and rows around it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/tri.h"

namespace storkit {

// kResume: the VM here is paused by an I/O error and should run here; its storage answers again.
enum class Action { kNone, kStart, kStop, kResume };
std::string_view to_string(Action a);

// The lease as this node sees it after this tick's renewal attempt.
enum class LeaseView {
    kOff,      // the storage backend has no lease: the published flow's safe behaviour
    kFree,     // nobody holds a live lease (never taken, released or expired)
    kMine,     // this node holds it
    kOther,    // another node holds a live lease
    kUnknown,  // the storage did not answer
    kLapsed,   // free, but another node held it while the VM ran here: that node may have
               // fenced this copy's disk, so the copy is not adopted but restarted
};
std::string_view to_string(LeaseView l);

// kUnknown: the maintenance record could not be read; it may hold global maintenance.
enum class Maint { kNone, kGlobal, kNode, kUnknown };
std::string_view to_string(Maint m);

struct PeerObservation {
    std::string node;
    Tri running = Tri::kUnknown;  // is the VM active on that node?
};

struct Observations {
    Tri service = Tri::kUnknown;         // this node's storage service healthy?
    Tri volume = Tri::kUnknown;          // the VM's volume healthy?
    Tri master = Tri::kUnknown;          // this node the storage master?
    Tri here = Tri::kUnknown;            // the VM active on this node?
    bool paused_io = false;              // ...and paused by an I/O error (error_policy stop)
    std::vector<PeerObservation> peers;  // every other node
    LeaseView lease = LeaseView::kOff;
    std::string lease_holder;    // for the reason, when kOther or kLapsed
    bool renew_overdue = false;  // this node runs the VM and has not renewed for ticks-1 ticks
    Maint maint = Maint::kNone;
    bool allow_unknown_peers = false;  // config: the published behaviour, with its risk
    bool sticky = false;               // config placement "sticky" (else follow-master)
};

struct Decision {
    Action action = Action::kNone;
    std::string rule;     // the id of the table row that matched
    std::string reason;   // one human sentence
    bool failed = false;  // the desired state cannot be ensured (e.g. local libvirt silent)
};

// "Is the VM running anywhere else?": yes if any peer says yes, else unknown if any peer did
// not answer, else no. Unknown is never "not running".
Tri running_elsewhere(const std::vector<PeerObservation>& peers);

Decision decide(const Observations& obs);

}  // namespace storkit
