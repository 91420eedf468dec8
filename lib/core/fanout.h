// The fan-out engine: one operation on many independent targets (BMCs) at once, within a
// window, each target handled by one worker from its first attempt to its last.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace storkit {

// What one attempt on one target came to.
enum class Attempt {
    kDone,    // succeeded
    kRetry,   // failed in a way another attempt may fix (a timeout, a busy BMC)
    kGiveUp,  // failed for good (a wrong password); no more attempts
};

struct FanoutOptions {
    size_t window = 64;  // targets worked on at the same time (>= 1)
    int retries = 1;     // attempts after the first one for a target whose attempt said kRetry
    std::chrono::milliseconds retry_delay{100};
};

// What the engine saw of one target.
struct FanoutOutcome {
    bool ok = false;
    int attempts = 0;
    std::string error;  // set when an attempt threw (the attempt's own errors are its business)
    std::chrono::system_clock::time_point started;
    std::chrono::system_clock::time_point finished;
};

// Calls attempt(index, n) with n = 1, 2, ... for every index in [0, count) until it returns
// kDone or kGiveUp or the retries are used up. At most `window` targets are in progress at any
// time, taken in index order; a target keeps its worker until it is finished, so no target ever
// has two operations in flight, and a target that hangs until its own deadline holds one worker
// and delays no other target. An exception from `attempt` ends that target (kGiveUp) with its
// message in `error`. Returns one outcome per index once every target is finished.
std::vector<FanoutOutcome> run_fanout(
    size_t count, const FanoutOptions& options,
    const std::function<Attempt(size_t index, int attempt)>& attempt);

}  // namespace storkit
