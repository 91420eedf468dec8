// pxe-report: records one install event (a DHCP lease or TFTP transfer from dnsmasq's
// dhcp-script, an install phase from a node over CGI) and prints the BMC -> MAC -> IP table.
#include "core/runner.h"
#include "pxe/report_command.h"

int main(int argc, char** argv) {
    storkit::PxeReportOptions opts;
    CLI::App* cli = nullptr;
    storkit::ToolSpec spec;
    spec.name = "pxe-report";
    spec.description =
        "Records one network-install event in the state directory and keeps the BMC -> MAC ->\n"
        "DHCP address table. Events: add|old|del MAC IP [HOST] and tftp SIZE IP FILE (dnsmasq's\n"
        "dhcp-script), phase MAC PHASE [DETAIL]; 'table' prints the table. Without arguments and\n"
        "with GATEWAY_INTERFACE set it answers one CGI request (fields phase, mac, detail).";
    spec.default_config = "/etc/storkit/pxe.json";
    spec.add_options = [&](CLI::App& app) {
        app.add_option("--state-dir", opts.state_dir,
                       "State directory (default: $STORKIT_PXE_STATE_DIR, else paths.state_dir "
                       "of the config + /pxe)");
        // Everything from the first positional argument on is the event: a DHCP client's host
        // name such as "-n" must not become an option.
        app.prefix_command();
        cli = &app;
    };
    spec.run = [&](const storkit::CommonOptions& common, storkit::Report& report) {
        opts.event = cli->remaining();
        storkit::pxe_report_command(common, opts, report);
    };
    return storkit::run_tool(spec, argc, argv);
}
