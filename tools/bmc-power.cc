// bmc-power: IPMI power status and control, and a one-time PXE boot, for a range of BMCs in
// parallel; or the search for the BMCs of a subnet.
#include "bmc/power_action.h"
#include "bmc/power_command.h"
#include "core/runner.h"
#include "pxe/bmc_fleet.h"
#include "pxe/config.h"

int main(int argc, char** argv) {
    storkit::BmcPowerOptions opts;
    storkit::ToolSpec spec;
    spec.name = "bmc-power";
    spec.description =
        "IPMI 2.0 power control for many BMCs at once: status, on, off, soft, cycle, reset,\n"
        "a one-time PXE boot (pxe) or a PXE boot now (pxe-boot); or find the BMCs of a subnet\n"
        "(discover). Without --hosts: the nodes of the pxe-provision config. The password comes\n"
        "from --password-file, the node's password file in the config or\n"
        "$STORKIT_IPMI_PASSWORD.";
    spec.default_config = storkit::kDefaultPxeConfig;
    spec.add_options = [&](CLI::App& app) {
        app.add_option("action", opts.action, storkit::power_action_names() + "|discover")
            ->required();
        app.add_option("--hosts", opts.hosts,
                       "BMCs: HOST[:PORT] entries with [a-b,c] ranges, comma separated");
        app.add_option("--nodes", opts.nodes,
                       "Without --hosts: only these nodes of the config (a,b or node[1-4])");
        app.add_option("--user", opts.user,
                       "IPMI user name (default: the node's in the config, else admin)");
        app.add_option("--password-file", opts.password_file,
                       "File whose first line is the password (no access for others)");
        app.add_option("--cipher-suite", opts.cipher_suite,
                       "IPMI 2.0 cipher suite id (default: bmc.cipher_suite, else 3)");
        app.add_option("--timeout-ms", opts.timeout_ms,
                       "Wait per BMC answer (default: bmc.timeout_ms, else 5000); discover: the "
                       "whole search (default 2000)");
        app.add_option("--retries", opts.retries,
                       "Attempts after a failed one per BMC (default: bmc.retries, else 1)");
        app.add_option("--window", opts.window, "BMCs worked on at the same time")
            ->capture_default_str();
        app.add_option("--settle-ms", opts.settle_ms,
                       "After a change, how long to read the power state back until it shows")
            ->capture_default_str();
        app.add_flag("--efi", opts.efi, "pxe, pxe-boot: boot the UEFI way (default: BIOS)");
        app.add_option("--port", opts.port, "UDP port for hosts given without one, and discover")
            ->capture_default_str();
        app.add_option("--subnet", opts.subnet,
                       "discover: the subnet to search (CIDR; default: bmc.subnet)");
    };
    spec.run = [&](const storkit::CommonOptions& common, storkit::Report& report) {
        storkit::bmc_power_command(common, opts, storkit::load_pxe_bmc_fleet, report);
    };
    return storkit::run_tool(spec, argc, argv);
}
