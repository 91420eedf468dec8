// Bash completion for a tool, generated from the same CLI11 parser that reads its command line
// (`TOOL --bash-completion`; the build writes one file per tool and the package installs it),
// so the completion cannot drift from the options.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace storkit {

// A bash script that completes `tool`'s subcommands, its options (the common ones after a
// subcommand too, as the runner allows), the words of a positional whose description is a
// `|`-separated list ("status|on|off"), and file names after an option that takes a file.
// Hidden options (an empty group) are left out.
std::string bash_completion(CLI::App& app, const std::string& tool);

}  // namespace storkit
