// mgmtvm-maint: freeze the management-VM reconcile everywhere or on one node, with an expiry;
// confirm that a node is really off.
#include "core/runner.h"
#include "mgmtvm/config.h"
#include "mgmtvm/maint_command.h"

int main(int argc, char** argv) {
    storkit::MaintOptions opts;
    storkit::ToolSpec spec;
    spec.name = "mgmtvm-maint";
    spec.description =
        "Maintenance of the management-VM reconcile: global (every node observes and reports,\n"
        "changes nothing) or per node (the node hands the VM off and never starts it); and the\n"
        "operator's word that a node is really off (confirm-down).";
    spec.default_config = storkit::kDefaultMgmtvmConfig;
    spec.add_options = [&](CLI::App& app) {
        app.require_subcommand(1);
        CLI::App* set = app.add_subcommand("set", "Switch maintenance on");
        CLI::App* clear = app.add_subcommand("clear", "Switch maintenance off");
        app.add_subcommand("show", "Show what is in maintenance");
        CLI::App* down = app.add_subcommand(
            "confirm-down",
            "Confirm that NODE is really off: the master may take its lease over at once,\n"
            "fencing first");
        down->add_option("node", opts.node, "The node that is off")->required();
        down->add_option("--reason", opts.reason, "Why, for the status display and the trace");
        for (CLI::App* sub : {set, clear}) {
            sub->add_flag("--global", opts.global, "Every node");
            sub->add_option("--node", opts.node, "One node");
        }
        set->add_option("--for", opts.duration, "Expire after 90s, 30m, 2h, 1d (default: never)");
        set->add_option("--reason", opts.reason, "Why, for the status display");
        app.final_callback([&app, &opts] { opts.verb = app.get_subcommands()[0]->get_name(); });
    };
    spec.run = [&](const storkit::CommonOptions& common, storkit::Report& report) {
        storkit::mgmtvm_maint_command(common, opts, report);
    };
    return storkit::run_tool(spec, argc, argv);
}
