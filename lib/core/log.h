// Diagnostics on stderr or syslog. Silent by default so that cron mails nothing on success.
#pragma once

#include <fmt/format.h>

#include <string>

namespace storkit::log {

enum class Level { kError = 0, kWarning = 1, kInfo = 2, kDebug = 3 };

// Configure once per process: the tool name prefixes every line; verbosity 0 shows errors and
// warnings, 1 adds info, 2 adds debug. With `syslog` set, lines go to syslog(3) instead.
void setup(const std::string& tool, int verbosity, bool syslog);

void write(Level level, const std::string& msg);

template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
    write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
    write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
    write(Level::kWarning, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
    write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace storkit::log
