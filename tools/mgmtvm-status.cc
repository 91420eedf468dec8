// mgmtvm-status: the management VM across the whole cluster at a glance.
#include "core/runner.h"
#include "mgmtvm/config.h"
#include "mgmtvm/status_command.h"

int main(int argc, char** argv) {
    storkit::StatusOptions opts;
    storkit::ToolSpec spec;
    spec.name = "mgmtvm-status";
    spec.description =
        "The management VM across the cluster: per node storage health, role, VM state,\n"
        "maintenance and last decision, and the lease.";
    spec.default_config = storkit::kDefaultMgmtvmConfig;
    spec.has_dry_run = false;
    spec.add_options = [&](CLI::App& app) {
        app.add_flag("--no-color", opts.no_color, "No colour, even on a terminal");
    };
    spec.run = [&](const storkit::CommonOptions& common, storkit::Report& report) {
        storkit::mgmtvm_status_command(common, opts, report);
    };
    return storkit::run_tool(spec, argc, argv);
}
