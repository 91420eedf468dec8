// The `pxe-report` command: records one install event into the state directory. It runs as
// dnsmasq's dhcp-script, as a CGI program behind lighttpd (install phases from the nodes), or by
// hand; and prints the BMC -> MAC -> DHCP address table.
#pragma once

#include <string>
#include <vector>

#include "core/report.h"
#include "core/runner.h"

namespace storkit {

struct PxeReportOptions {
    std::string state_dir;           // --state-dir; else see resolve_pxe_state_dir
    std::vector<std::string> event;  // everything from the first positional argument on
};

// With arguments: `add|old|del MAC IP [HOST]`, `tftp SIZE IP FILE` (dnsmasq),
// `phase MAC PHASE [DETAIL]`, or `table`. Without arguments and with GATEWAY_INTERFACE set:
// one CGI request (GET or POST form fields phase, mac, detail), answered on stdout.
// Throws ConfigError (2) for a malformed event, LockedError (75) when the state stays locked.
void pxe_report_command(const CommonOptions& common, const PxeReportOptions& opts, Report& report);

}  // namespace storkit
