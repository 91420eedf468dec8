// mgmtvm-reconcile: one tick of the management-VM reconcile on this node.
#include "core/runner.h"
#include "mgmtvm/config.h"
#include "mgmtvm/reconcile_command.h"

int main(int argc, char** argv) {
    storkit::ReconcileOptions opts;
    storkit::ToolSpec spec;
    spec.name = "mgmtvm-reconcile";
    spec.description =
        "One tick of the management-VM reconcile on this node: check storage health, the\n"
        "storage master and where the VM runs, then start or stop it here.";
    spec.default_config = storkit::kDefaultMgmtvmConfig;
    spec.add_options = [&](CLI::App& app) {
        app.add_option("--node", opts.node, "This node's name (overrides \"node\" in the config)");
    };
    spec.run = [&](const storkit::CommonOptions& common, storkit::Report& report) {
        storkit::mgmtvm_reconcile_command(common, opts, report);
    };
    return storkit::run_tool(spec, argc, argv);
}
