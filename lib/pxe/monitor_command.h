// `pxe-monitor`: follows every install in the control machine's table, one tick per run (or
// --watch until all are done), and tells the control machine each result.
#pragma once

#include <string>

#include "core/report.h"
#include "core/runner.h"

namespace storkit {

struct MonitorOptions {
    std::string table;      // table.json to read; default <pxe state>/table.json
    std::string state_dir;  // the monitor's own state; default <pxe state>/monitor
    bool watch = false;     // tick until every watched install has a result
    double interval_s = 5;  // between ticks with --watch
};

// One tick: reads the table, judges every install (monitor.h), power-cycles a timed-out node
// into PXE while monitor.retries allows, appends each result to the feedback file (JSON
// lines) and runs monitor.notify for it, then saves the watch state. Says a line per new result
// or retry; the table of every install it watches is a detail (a terminal or -v only). A result is
// appended before the watch state that records it is saved: after a crash in between it is sent
// again, never lost.
void pxe_monitor_command(const CommonOptions& common, const MonitorOptions& opts, Report& report);

}  // namespace storkit
