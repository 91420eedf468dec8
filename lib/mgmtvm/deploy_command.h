// `mgmtvm-deploy`: the deployment steps of the published method, idempotent: the VM's RBD image
// made to size, a local disk image imported into it once, and the tick installed.
#pragma once

#include <string>

#include "core/report.h"
#include "core/runner.h"

namespace storkit {

struct DeployOptions {
    std::string image_file;  // a raw or qcow2 disk image to import ("" = none)
    std::string size;        // the image's size, e.g. "40G" ("" = the file's)
    std::string cron_file = "/etc/cron.d/storkit-mgmtvm";
    double import_timeout_s = 3600;
};

void mgmtvm_deploy_command(const CommonOptions& common, const DeployOptions& opts,
                           Report& report);

// "40G" -> 42949672960 (binary multiples K, M, G, T; plain bytes without a suffix).
// Throws ConfigError naming the value.
uint64_t parse_size(const std::string& text);

}  // namespace storkit
