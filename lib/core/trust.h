// sshd-style StrictModes: a tool running as root refuses a config file, or a program named in
// one, that anyone but root could have written.
#pragma once

#include <string>

namespace storkit {

// When running as root: throws ConfigError unless `path` and every directory above it are
// owned by root and not writable by group or others. A world-writable directory with the
// sticky bit (like /tmp) is accepted, because others cannot replace root's entries in it.
// `what` names the file in the message ("config", "command storage.is_master").
// Does nothing when not running as root.
void require_root_only_writable(const std::string& path, const std::string& what);

}  // namespace storkit
