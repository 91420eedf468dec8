// Wall-clock time as seconds since the Unix epoch, the form every state file and report uses.
#pragma once

#include <chrono>

namespace storkit {

inline double epoch_seconds(std::chrono::system_clock::time_point t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

inline double now_seconds() {
    return epoch_seconds(std::chrono::system_clock::now());
}

}  // namespace storkit
