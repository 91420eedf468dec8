#include "core/log.h"

#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>

namespace storkit::log {
namespace {

struct State {
    std::mutex mu;
    std::string tool = "storkit";
    int verbosity = 0;
    bool syslog = false;
};

State& state() {
    static State s;
    return s;
}

}  // namespace

void setup(const std::string& tool, int verbosity, bool use_syslog) {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    s.tool = tool;
    s.verbosity = verbosity;
    s.syslog = use_syslog;
    if (use_syslog) openlog(s.tool.c_str(), LOG_PID, LOG_DAEMON);
}

void write(Level level, const std::string& msg) {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    // Errors and warnings always count; info needs -v, debug -vv.
    int needed = level == Level::kInfo ? 1 : level == Level::kDebug ? 2 : 0;
    if (s.syslog) {
        if (s.verbosity < needed && level != Level::kError && level != Level::kWarning) return;
        int prio = level == Level::kError     ? LOG_ERR
                   : level == Level::kWarning ? LOG_WARNING
                   : level == Level::kInfo    ? LOG_INFO
                                              : LOG_DEBUG;
        ::syslog(prio, "%s", msg.c_str());
        return;
    }
    if (s.verbosity < needed) return;
    const char* tag = level == Level::kError     ? "error: "
                      : level == Level::kWarning ? "warning: "
                                                 : "";
    std::string line = fmt::format("{}: {}{}\n", s.tool, tag, msg);
    (void)!::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace storkit::log
