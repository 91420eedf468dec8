// `mgmtvm-status`: the whole cluster at a glance.
#pragma once

#include "core/report.h"
#include "core/runner.h"

namespace storkit {

struct StatusOptions {
    bool no_color = false;  // colour is only ever used on a terminal, and never with --json
};

void mgmtvm_status_command(const CommonOptions& common, const StatusOptions& opts, Report& report);

}  // namespace storkit
