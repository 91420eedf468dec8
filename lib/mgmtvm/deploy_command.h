// `mgmtvm-deploy`: the deployment steps of the published method, idempotent: the VM's RBD image
// made to size, a local disk image imported into it once, the domain XML written, the libvirt
// secret and the domain defined on every node, and the tick installed.
#pragma once

#include <string>

#include "core/report.h"
#include "core/runner.h"

namespace storkit {

struct DeployOptions {
    std::string image_file;  // a raw or qcow2 disk image to import ("" = none)
    std::string size;        // the image's size, e.g. "40G" ("" = the file's)
    std::string cron_file = "/etc/cron.d/storkit-mgmtvm";
    bool timer = false;  // a systemd timer instead of the crontab
    std::string unit_dir = "/etc/systemd/system";
    double import_timeout_s = 3600;
    // The domain XML written when vm.domain_xml does not exist yet.
    std::string memory = "4G";
    unsigned vcpus = 2;
    std::string virt_type = "kvm";
    std::string bridge;
};

void mgmtvm_deploy_command(const CommonOptions& common, const DeployOptions& opts, Report& report);

// "40G" -> 42949672960 (binary multiples K, M, G, T; plain bytes without a suffix).
// Throws ConfigError naming the option and the value.
uint64_t parse_size(const std::string& text, const std::string& option);

}  // namespace storkit
