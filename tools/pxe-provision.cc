// pxe-provision: unattended OS installs of the storage nodes over the network.
#include "core/runner.h"
#include "pxe/config.h"
#include "pxe/provision_command.h"

int main(int argc, char** argv) {
    storkit::PxeOptions opts;
    storkit::ToolSpec spec;
    spec.name = "pxe-provision";
    spec.description =
        "Unattended network installs of the storage nodes: from the ISO repository and the\n"
        "configuration, set up DHCP, TFTP and HTTP and every node's boot files and kickstart;\n"
        "power the nodes on in order over IPMI; keep the BMC -> MAC -> DHCP address table.";
    spec.default_config = storkit::kDefaultPxeConfig;
    spec.add_options = [&](CLI::App& app) {
        app.require_subcommand(1, 1);
        // Common options may also follow the subcommand: pxe-provision prepare --json
        app.fallthrough();
        CLI::App* prepare = app.add_subcommand(
            "prepare", "Image, DHCP/TFTP/HTTP configs, boot files and kickstarts for every node");
        prepare->add_flag("--reload", opts.reload,
                          "Then restart or reload dnsmasq and lighttpd (their storkit-pxe-* "
                          "units) as the changes need");
        prepare->callback([&opts] { opts.subcommand = storkit::PxeSubcommand::kPrepare; });
        CLI::App* boot = app.add_subcommand(
            "boot", "Power the nodes on in order (PXE once), binding unknown MACs by order");
        boot->add_flag("--step", opts.boot.step, "Do one step (a wave, a binding) and return");
        boot->add_flag("--restart", opts.boot.restart, "Forget the previous boot run first");
        boot->add_option("--force", opts.boot.force,
                         "Power these nodes even when installed or running (a,b)")
            ->delimiter(',');
        boot->callback([&opts] { opts.subcommand = storkit::PxeSubcommand::kBoot; });
        app.add_subcommand("status", "The BMC -> MAC -> DHCP address table, boot states, phases")
            ->callback([&opts] { opts.subcommand = storkit::PxeSubcommand::kStatus; });
        app.add_subcommand("discover", "Add the BMCs that answer in bmc.subnet as nodes")
            ->callback([&opts] { opts.subcommand = storkit::PxeSubcommand::kDiscover; });
        CLI::App* enroll = app.add_subcommand(
            "enroll", "Add a node to the node table; nodes boot in the order they were enrolled");
        enroll->add_option("name", opts.enroll.name, "The node's name")->required();
        enroll->add_option("--bmc", opts.enroll.bmc, "Its BMC's IPv4 address")->required();
        enroll->add_option("--mac", opts.enroll.mac, "The MAC of its install NIC, when known");
        enroll->callback([&opts] { opts.subcommand = storkit::PxeSubcommand::kEnroll; });
        CLI::App* reinstall = app.add_subcommand(
            "reinstall", "Install these nodes again: mark them, render their files, PXE boot them");
        reinstall->add_option("nodes", opts.nodes, "Node names (node1,node2 or node[1-4])")
            ->required();
        reinstall->callback([&opts] { opts.subcommand = storkit::PxeSubcommand::kReinstall; });
        CLI::App* unbind = app.add_subcommand(
            "unbind", "Take the MACs that boot learned away from these nodes, then prepare");
        unbind->add_option("nodes", opts.nodes, "Node names (node1,node2 or node[1-4])")
            ->required();
        unbind->callback([&opts] { opts.subcommand = storkit::PxeSubcommand::kUnbind; });
    };
    spec.run = [&](const storkit::CommonOptions& common, storkit::Report& report) {
        storkit::pxe_provision_command(common, opts, report);
    };
    return storkit::run_tool(spec, argc, argv);
}
