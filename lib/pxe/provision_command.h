// The `pxe-provision` command: network installs of the storage nodes, one subcommand per step.
//   prepare   ISO -> boot files, DHCP/TFTP/HTTP configuration, kickstarts (idempotent)
//   boot      power the nodes on in order over IPMI, bind MACs by order (pxe_boot.h)
//   status    the BMC -> MAC -> DHCP address table with boot states and install phases
//   discover  find the BMCs of bmc.subnet and add them to the node table
//   enroll    add one node to the node table, with its enrollment time (the boot order)
//   reinstall mark nodes for install, render their files, power them into PXE
//   unbind    take learned MACs away from nodes they were bound to wrongly, then prepare
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/report.h"
#include "core/runner.h"
#include "pxe/boot_command.h"

namespace storkit {

enum class PxeSubcommand {
    kNone,
    kPrepare,
    kBoot,
    kStatus,
    kDiscover,
    kEnroll,
    kReinstall,
    kUnbind
};

struct EnrollOptions {
    std::string name, bmc, mac;
};

struct PxeOptions {
    PxeSubcommand subcommand = PxeSubcommand::kNone;
    BootOptions boot;
    EnrollOptions enroll;
    std::vector<std::string> nodes;  // reinstall, unbind: node names
    bool reload =
        false;  // prepare --reload: restart or reload the servers' units (node1,node2 or node[1-4])
};

class InstallBook;

// prepare: renders everything and records it; `change_book`, when given, changes the install
// book (e.g. marks nodes for reinstall) before the files are rendered from it.
void pxe_prepare(const CommonOptions& common, Report& report,
                 const std::function<void(InstallBook&)>& change_book);

// Runs the chosen subcommand and fills `report`. Throws ConfigError (2) for a bad config,
// LockedError (75) while another run holds the lock, Error (1) for other failures. On any
// error before the first write, nothing is written.
void pxe_provision_command(const CommonOptions& common, const PxeOptions& opts, Report& report);

}  // namespace storkit
