// pxe-provision: unattended OS installs of the storage nodes over the network.
#include "storkit/pxe_config.h"
#include "storkit/pxe_provision.h"
#include "storkit/runner.h"

int main(int argc, char** argv) {
    storkit::PxeOptions opts;
    storkit::ToolSpec spec;
    spec.name = "pxe-provision";
    spec.description =
        "Unattended network installs of the storage nodes: from the ISO repository and the\n"
        "configuration, set up DHCP, TFTP and HTTP and every node's boot files and kickstart.";
    spec.default_config = storkit::kDefaultPxeConfig;
    spec.add_options = [&](CLI::App& app) {
        app.require_subcommand(1, 1);
        // Common options may also follow the subcommand: pxe-provision prepare --json
        app.fallthrough();
        CLI::App* prepare = app.add_subcommand(
            "prepare", "Image, DHCP/TFTP/HTTP configs, boot files and kickstarts for every node");
        prepare->callback([&opts] { opts.subcommand = storkit::PxeSubcommand::kPrepare; });
    };
    spec.run = [&](const storkit::CommonOptions& common, storkit::Report& report) {
        storkit::pxe_provision_command(common, opts, report);
    };
    return storkit::run_tool(spec, argc, argv);
}
