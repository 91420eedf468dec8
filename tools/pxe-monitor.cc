// pxe-monitor: follows every network install to its result and tells the control machine.
#include "core/runner.h"
#include "pxe/config.h"
#include "pxe/monitor_command.h"

int main(int argc, char** argv) {
    storkit::MonitorOptions opts;
    storkit::ToolSpec spec;
    spec.name = "pxe-monitor";
    spec.description =
        "Follows every network install in the control machine's table (table.json): each\n"
        "node's phases from its power-on (DHCP, kickstart, heartbeats) against their deadlines,\n"
        "until it reports finished or failed or misses one. Each result goes to the feedback\n"
        "file and to monitor.notify, once. One tick per run; --watch ticks until all are done.";
    spec.default_config = storkit::kDefaultPxeConfig;
    spec.add_options = [&](CLI::App& app) {
        app.add_option("--table", opts.table,
                       "The table to follow: a file or an http:// URL (default: table.json in "
                       "the pxe state directory)");
        app.add_option("--state-dir", opts.state_dir,
                       "The monitor's own state (default: monitor/ in the pxe state directory)");
        app.add_flag("--watch", opts.watch,
                     "Tick until every install has a result, redrawing the table on a terminal");
        app.add_option("--interval", opts.interval_s, "Seconds between ticks with --watch")
            ->capture_default_str()
            ->check(CLI::Range(0.1, 3600.0));
    };
    spec.run = [&](const storkit::CommonOptions& common, storkit::Report& report) {
        storkit::pxe_monitor_command(common, opts, report);
    };
    return storkit::run_tool(spec, argc, argv);
}
