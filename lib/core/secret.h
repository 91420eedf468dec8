// Secrets (BMC passwords): read from a file that others cannot read, or from an environment
// variable; never from the command line, and never written to a log or a report.
#pragma once

#include <string>

namespace storkit {

// The first line of `path` (without its line end). Throws ConfigError naming the file when it
// cannot be read, is not a regular file, gives others any access (mode & 0007: "refusing it,
// chmod o-rwx FILE"), or holds an empty first line. `what` names the secret in messages
// ("password file").
std::string read_secret_file(const std::string& path, const std::string& what);

// The whole content of `path` (line ends at its end dropped): a secret for a template, such as
// a root password hash or an SSH key. Throws ConfigError naming the file unless it is a
// regular file owned by root that nobody else may read ("owner uid U, mode M: only root may
// read it"), or when it is empty or larger than 64 KiB.
std::string read_root_only_file(const std::string& path, const std::string& what);

// Where a secret comes from, in order: `file` when not empty (read_secret_file), then the
// environment variable `env_name` when set and not empty. Throws ConfigError saying both ways
// when neither gives one. `what` names the secret ("BMC password").
std::string load_secret(const std::string& file, const std::string& env_name,
                        const std::string& what);

}  // namespace storkit
