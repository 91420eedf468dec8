#include "pxe/report_snippets.h"

#include <fmt/format.h>

namespace storkit {

namespace {

// A shell function `storkit_report PHASE [DETAIL]`: one POST, 10 s at most, never fatal. With
// wget the detail is reduced to characters that need no escaping in a form; its deadline is
// timeout(1)'s, because busybox 1.35's static wget crashes on its own -T.
std::string report_function(const std::string& url, const std::string& who) {
    return fmt::format(
        "storkit_report() {{\n"
        "  if command -v curl >/dev/null 2>&1; then\n"
        "    curl -fsS -m 10 -o /dev/null -d '{1}' --data-urlencode \"phase=$1\" "
        "--data-urlencode \"detail=${{2:-}}\" '{0}'\n"
        "  else\n"
        "    timeout 10 wget -q -O /dev/null --post-data \"{1}&phase=$1&detail=$(printf %s "
        "\"${{2:-}}\" | "
        "tr -c 'A-Za-z0-9._:-' '+')\" '{0}'\n"
        "  fi\n"
        "}}\n",
        url, who);
}

}  // namespace

std::string report_snippets(ReportSnippets kind, const std::string& url, double heartbeat_s,
                            const std::string& node, const std::string& token) {
    std::string who = fmt::format("node={}&token={}", node, token);
    std::string fn = report_function(url, who);
    int beat = static_cast<int>(heartbeat_s / 3 > 1 ? heartbeat_s / 3 : 1);
    switch (kind) {
        case ReportSnippets::kNone: return "";
        case ReportSnippets::kKickstart:
            return fmt::format(
                "\n# Install reports to the control machine (pxe-monitor), added by pxe-provision\n"
                "# prepare; install.report \"none\" leaves them out.\n"
                "%pre --log=/tmp/storkit-report.log\n"
                "{0}"
                "storkit_report started\n"
                "( while sleep {1}; do storkit_report heartbeat; done ) </dev/null >/dev/null 2>&1 "
                "&\n"
                "%end\n"
                "%post --nochroot --log=/tmp/storkit-report.log\n"
                "{0}"
                "storkit_report finished\n"
                "%end\n"
                "%onerror\n"
                "{0}"
                "storkit_report failed \"$(tail -c 160 /tmp/anaconda.log 2>/dev/null | "
                "tr '\\n\\t\\r' '   ' | sed 's/[^[:print:]]//g')\"\n"
                "%end\n",
                fn, beat);
        case ReportSnippets::kPreseed: {
            // d-i runs each command as one shell line: the function goes in each, on one line.
            std::string one = fmt::format(
                "r() {{ timeout 10 wget -q -O /dev/null --post-data \"{}&phase=$1\" '{}'; }}", who,
                url);
            return fmt::format(
                "\n# Install reports to the control machine (pxe-monitor), added by pxe-provision\n"
                "# prepare; install.report \"none\" leaves them out. d-i has no hook on failure:\n"
                "# a failed install shows as a missed heartbeat.\n"
                "d-i preseed/early_command string {0}; r started; "
                "( while sleep {1}; do r heartbeat; done ) </dev/null >/dev/null 2>&1 &\n"
                "d-i preseed/late_command string {0}; r finished\n",
                one, beat);
        }
    }
    return "";
}

}  // namespace storkit
