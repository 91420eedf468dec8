// The fault harness's own view of where the management VM runs: each node's libvirtd is asked
// directly through libvirt's C API, never through storkit's virt module (the code under test).
#pragma once

#include <chrono>
#include <string>

namespace fault {

enum class Seen { kRunning, kStopped, kUnknown };
const char* to_string(Seen s);

// One question to one daemon. kRunning: the domain exists in any state but "shut off" (a paused
// or crashed domain still holds its disk); kStopped: shut off or not defined; kUnknown: no answer
// within `timeout` (the connection runs on its own thread: a stopped daemon blocks it forever)
// or an error.
Seen ask_libvirt(const std::string& uri, const std::string& domain,
                 std::chrono::milliseconds timeout);

// Asks up to `tries` times until the answer is known; `unanswered` counts the questions that
// got no answer on the way.
Seen ask_until_known(const std::string& uri, const std::string& domain, int tries,
                     long& unanswered);

// Destroys the domain if it runs (a fresh schedule starts with no copy); true when done.
bool destroy_domain(const std::string& uri, const std::string& domain);

// Questions still blocked in libvirt (abandoned at their deadline). Waits up to `timeout` for
// them to end; true when none is left.
bool oracle_settled(std::chrono::milliseconds timeout);

}  // namespace fault
