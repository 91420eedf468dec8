// Errors that end a tool run, each carrying the exit code the tool returns.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace storkit {

// Exit codes shared by every tool (see DESIGN: "Conventions for every tool").
enum ExitCode : int {
    kExitOk = 0,       // the desired state holds
    kExitFailed = 1,   // something failed
    kExitUsage = 2,    // usage or configuration error
    kExitChanged = 3,  // ok and something changed (only with --detailed-exitcode)
    kExitLocked = 75,  // another run holds the lock (EX_TEMPFAIL)
};

// A failure at a system edge (C API, subprocess, file). `what()` is the one-line message.
class Error : public std::runtime_error {
  public:
    explicit Error(const std::string& msg, int code = kExitFailed)
        : std::runtime_error(msg), code_(code) {}
    int code() const { return code_; }

  private:
    int code_;
};

// A configuration or usage problem: always exit code 2.
class ConfigError : public Error {
  public:
    explicit ConfigError(const std::string& msg) : Error(msg, kExitUsage) {}
};

// Another tick holds the lock: exit code 75.
class LockedError : public Error {
  public:
    explicit LockedError(const std::string& msg) : Error(msg, kExitLocked) {}
};

// strerror() as a std::string, thread-safe.
std::string errno_text(int err);

// `text` as it may go into a message: at most `max` bytes of it (never cutting a UTF-8
// character), then "... (N bytes)" when it was longer. A value from a file or the network can
// be megabytes; a message names it, it does not repeat it.
std::string clipped(std::string_view text, size_t max = 200);

}  // namespace storkit
