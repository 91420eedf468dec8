// The management-VM decision of one tick: observations in, one action and its reason out.
// Pure: no I/O. The published flow (MISSION.md, job 1) is the table in reconcile.cc.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "storkit/tri.h"

namespace storkit {

enum class Action { kNone, kStart, kStop };
std::string_view to_string(Action a);

struct PeerObservation {
    std::string node;
    Tri running = Tri::kUnknown;  // is the VM active on that node?
};

struct Observations {
    Tri service = Tri::kUnknown;         // this node's storage service healthy?
    Tri volume = Tri::kUnknown;          // the VM's volume healthy?
    Tri master = Tri::kUnknown;          // this node the storage master?
    Tri here = Tri::kUnknown;            // the VM active on this node?
    std::vector<PeerObservation> peers;  // every other node
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
