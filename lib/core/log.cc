#include "core/log.h"

#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <string_view>
#include <vector>

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

// A message of several lines (every problem of a config file) is several messages: each line
// gets the tool's name and the level, so that each reads on its own.
std::vector<std::string_view> lines(std::string_view msg) {
    std::vector<std::string_view> out;
    size_t start = 0;
    for (size_t nl; (nl = msg.find('\n', start)) != std::string_view::npos; start = nl + 1)
        out.push_back(msg.substr(start, nl - start));
    if (start < msg.size() || out.empty()) out.push_back(msg.substr(start));
    return out;
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
        for (std::string_view line : lines(msg))
            ::syslog(prio, "%.*s", static_cast<int>(line.size()), line.data());
        return;
    }
    if (s.verbosity < needed) return;
    const char* tag = level == Level::kError     ? "error: "
                      : level == Level::kWarning ? "warning: "
                                                 : "";
    std::string text;
    for (std::string_view line : lines(msg)) text += fmt::format("{}: {}{}\n", s.tool, tag, line);
    (void)!::write(STDERR_FILENO, text.data(), text.size());
}

}  // namespace storkit::log
