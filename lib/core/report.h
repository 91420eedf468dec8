// The result object every tool produces, and the only way its output reaches stdout: library
// code never writes there itself; the runner (core/runner.h) prints what the report holds, so
// --json, silence on success and --syslog hold for every tool alike. On stdout:
//   line()       while the tool works, each line as it is said, unless --json;
//   detail()     the same, but only on a terminal or with -v (silent on success from cron);
//   `response`   when the run ends, with or without --json (it answers the program that ran
//                the tool, such as a web server);
//   `text`       then, unless --json;
//   to_json()    then, with --json: one object on one line.
// A failed run without --json ends with `tool: error: msg` on stderr.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace storkit {

struct Report {
    std::string tool;
    bool changed = false;
    bool failed = false;
    std::string msg;
    int rc = 0;
    // What a reporting tool shows a person when it is done (a table); printed on stdout unless
    // --json.
    std::string text;
    // The answer to the program that ran the tool, such as a CGI response (header lines and
    // body): printed on stdout also when the run fails after it was given, and with --json.
    std::string response;
    // Tool-specific fields, merged into the top level of the JSON object.
    nlohmann::json data = nlohmann::json::object();

    // Shows a person one line (no newline at the end) at once, in its place among the
    // diagnostics on stderr: progress on long work, a result per item as it is known, what a
    // dry run would do. It goes to `on_line`; without one (a library caller outside the
    // runner, a test) it is appended to `text`.
    void line(const std::string& s);
    // Where line() sends its lines. The runner writes them to stdout and flushes, or drops
    // them with --json.
    std::function<void(const std::string&)> on_line;

    // A line of progress or of one item's success ("node3 on (was off)"), said like line() but
    // only to a person: the runner shows details when stdout is a terminal or with -v, and
    // drops them otherwise, so that a run from cron that went well prints nothing (cron mails
    // any output). A failed item, the answer to a query and what a dry run would do are not
    // details: they go through line().
    void detail(const std::string& s) {
        if (show_details) line(s);
    }
    // Whether details are shown; also whether output only for a person watching (a table shown
    // after every tick) is worth making. The runner sets it; outside the runner it is true.
    bool show_details = true;

    // For a person watching a terminal, nothing else: progress on long work ("import:  42.0 %",
    // redrawn in place on stderr; "" ends it) and a screen redrawn in place (a live table on
    // stdout). The runner wires both only when that stream is a terminal and not with --json;
    // otherwise, and outside the runner, they do nothing.
    void progress(const std::string& s) const {
        if (on_progress) on_progress(s);
    }
    void redraw(const std::string& screen) const {
        if (on_redraw) on_redraw(screen);
    }
    std::function<void(const std::string&)> on_progress, on_redraw;
    // Whether anybody sees progress() (so that work done only for it can be skipped).
    bool shows_progress() const { return static_cast<bool>(on_progress); }

    nlohmann::json to_json() const;
};

}  // namespace storkit
