// Secrets (BMC passwords): read from a file that others cannot read, or from an environment
// variable; never from the command line, and never written to a log or a report.
#pragma once

#include <string>
#include <string_view>

namespace storkit {

// The environment variable a BMC password may come from (bmc-power, pxe-provision boot).
inline constexpr const char* kIpmiPasswordEnv = "STORKIT_IPMI_PASSWORD";

// Whether `name` is an environment variable storkit reads a secret from: kIpmiPasswordEnv, and
// any other name load_secret was given. run_command leaves these out of every child's
// environment (a child that needs a secret is given it another way), so a password exported
// for bmc-power never reaches systemctl, qemu-img, a storage command or a hook.
bool is_secret_env(std::string_view name);

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
// when neither gives one. `what` names the secret ("BMC password"). `env_name` becomes a
// secret variable (is_secret_env).
// Moves each secret variable (kIpmiPasswordEnv) out of the environment into the process, where
// load_secret still finds it. run_tool calls it first, while the tool has one thread: no
// program the tool or a library it uses starts can inherit the secret then.
void take_secret_env();

std::string load_secret(const std::string& file, const std::string& env_name,
                        const std::string& what);

}  // namespace storkit
