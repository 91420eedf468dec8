#include "core/runner.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "core/completion.h"
#include "core/deadline.h"
#include "core/error.h"
#include "core/log.h"
#include "core/secret.h"

#ifndef STORKIT_VERSION
#define STORKIT_VERSION "0.0.0"
#endif

namespace storkit {

const char* version() {
    return STORKIT_VERSION;
}

namespace {

// A parse error message from CLI11, reduced to one line.
std::string one_line(std::string s) {
    for (char& c : s)
        if (c == '\n') c = ' ';
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
}

// Lines said while the tool works (Report::line) go out at once, so they keep their place among
// the diagnostics on stderr; --json drops them. Details (Report::detail) are for a person: on a
// terminal or with -v, never in the mail cron sends for any output.
void wire_lines(const CommonOptions& common, Report& report) {
    report.show_details = !common.json && (::isatty(STDOUT_FILENO) || common.verbosity > 0);
    if (common.json)
        report.on_line = [](const std::string&) {};
    else
        report.on_line = [](const std::string& s) { std::cout << s << '\n' << std::flush; };
    if (!common.json && ::isatty(STDERR_FILENO))
        report.on_progress = [](const std::string& s) {
            std::cerr << (s.empty() ? "\n" : "\r" + s + "\033[K") << std::flush;
        };
    if (!common.json && ::isatty(STDOUT_FILENO))
        report.on_redraw = [](const std::string& screen) {
            std::cout << "\033[H\033[2J" << screen << std::flush;
        };
}

int finish(const CommonOptions& common, Report& report) {
    if (report.failed && report.rc == 0) report.rc = kExitFailed;
    if (!report.failed && report.changed && common.detailed_exitcode) report.rc = kExitChanged;
    if (!report.response.empty()) std::cout << report.response << std::flush;
    if (!common.json && !report.text.empty()) std::cout << report.text << std::flush;
    if (common.json) {
        std::cout << report.to_json().dump() << std::endl;
        if (common.syslog)
            log::write(report.failed ? log::Level::kError : log::Level::kInfo, report.msg);
    } else if (report.failed || (report.rc != 0 && report.rc != kExitChanged)) {
        log::error("{}", report.msg);
    } else if (!report.msg.empty()) {
        log::info("{}", report.msg);  // shown with -v, always recorded with --syslog
    }
    return report.rc;
}

// The options every tool has (CommonOptions).
void add_common_options(const ToolSpec& spec, CLI::App& app, CommonOptions& common) {
    app.set_version_flag("--version", fmt::format("{} {}", spec.name, version()));
    app.add_flag("--json", common.json, "Print the result as one JSON object on stdout");
    app.add_flag("-v,--verbose", common.verbosity, "Explain what happens (repeat for more)");
    app.add_flag("--syslog", common.syslog, "Send diagnostics to syslog instead of stderr");
    app.add_flag("--detailed-exitcode", common.detailed_exitcode,
                 "Exit 3 when the run succeeded and changed something");
    if (spec.has_dry_run)
        app.add_flag("-n,--dry-run", common.dry_run, "Say what would be done, change nothing");
    if (!spec.default_config.empty()) {
        common.config = spec.default_config;
        app.add_option("--config", common.config, "Configuration file")->capture_default_str();
    }
    // Common options may also follow a subcommand: `mgmtvm-maint set --global -v`.
    app.fallthrough();
}

}  // namespace

void exit_now(const CommonOptions& common, const Report& report) {
    // Unlike finish(), nothing goes to syslog with --json: the tick deadline never did that.
    if (common.json)
        std::cout << report.to_json().dump() << std::endl;
    else
        log::error("{}", report.msg);
    _exit(report.rc);
}

int run_tool(const ToolSpec& spec, int argc, char** argv) {
    // What a tool creates gets the mode it asks for, whatever umask its caller had (cron,
    // Ansible, a shell with umask 000), and so does what the programs it runs create
    // (grub-mknetdir's tree is served over TFTP).
    ::umask(022);
    // Before any thread or library starts: a secret in the environment (STORKIT_IPMI_PASSWORD)
    // moves into the process, out of what libvirt's ssh or any other child could inherit.
    take_secret_env();
    CommonOptions common;
    Report report;
    report.tool = spec.name;
    log::setup(spec.name, 0, false);  // until the options are known
    CLI::App app(spec.description, spec.name);
    add_common_options(spec, app, common);
    if (spec.add_options) spec.add_options(app);

    // For the build, which writes each tool's completion file (core/completion.h).
    if (argc == 2 && std::string_view(argv[1]) == "--bash-completion") {
        std::cout << bash_completion(app, spec.name);
        return kExitOk;
    }
    int rc = kExitFailed;
    try {
        try {
            app.parse(argc, argv);
        } catch (const CLI::CallForHelp&) {
            std::cout << app.help();
            return kExitOk;
        } catch (const CLI::CallForAllHelp&) {
            std::cout << app.help("", CLI::AppFormatMode::All);
            return kExitOk;
        } catch (const CLI::CallForVersion&) {
            std::cout << app.version() << std::endl;
            return kExitOk;
        } catch (const CLI::ParseError& e) {
            throw Error(fmt::format("{} (see --help)", one_line(e.what())), kExitUsage);
        }
        // With --syslog every run leaves its one-line result there, whatever the verbosity.
        log::setup(spec.name, common.syslog ? std::max(common.verbosity, 1) : common.verbosity,
                   common.syslog);
        wire_lines(common, report);
        spec.run(common, report);
        rc = finish(common, report);
    } catch (const Error& e) {
        report.failed = true;
        report.msg = e.what();
        report.rc = e.code();
        rc = finish(common, report);
    } catch (const std::exception& e) {
        report.failed = true;
        report.msg = fmt::format("internal error: {}", e.what());
        report.rc = kExitFailed;
        rc = finish(common, report);
    }
    if (abandoned_calls() > 0) {
        // A thread is still blocked inside a C library past its deadline: leave without
        // running destructors under it.
        std::cout.flush();
        (void)std::fflush(nullptr);  // nothing more can be done about a failure here
        _exit(rc);
    }
    return rc;
}

}  // namespace storkit
