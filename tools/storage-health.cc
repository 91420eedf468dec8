// storage-health: the storage backend's probes by hand, one line per check with its time.
#include "core/runner.h"
#include "mgmtvm/config.h"
#include "mgmtvm/health_command.h"

int main(int argc, char** argv) {
    storkit::HealthOptions opts;
    storkit::ToolSpec spec;
    spec.name = "storage-health";
    spec.description =
        "Asks the storage backend of the management-VM config what mgmtvm-reconcile asks it:\n"
        "this node's storage service, the VM's volume, the master, the lease and the shared\n"
        "store, one line per check with its time. Exit 0 when the service and the volume\n"
        "are healthy, 1 when either is not or is unknown.";
    spec.default_config = storkit::kDefaultMgmtvmConfig;
    spec.has_dry_run = false;
    spec.add_options = [&](CLI::App& app) {
        app.add_option("--node", opts.node, "This node's name (overrides \"node\" in the config)");
    };
    spec.run = [&](const storkit::CommonOptions& common, storkit::Report& report) {
        storkit::storage_health_command(common, opts, report);
    };
    return storkit::run_tool(spec, argc, argv);
}
