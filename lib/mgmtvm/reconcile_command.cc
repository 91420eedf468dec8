#include "mgmtvm/reconcile_command.h"

#include "core/deadline.h"
#include "core/error.h"
#include "core/log.h"
#include "core/statefile.h"
#include "mgmtvm/tick.h"

namespace storkit {

void mgmtvm_reconcile_command(const CommonOptions& common, const ReconcileOptions& opts,
                              Report& report) {
    // Everything that can be wrong with the configuration fails here, before anything is touched.
    MgmtvmConfig cfg = load_mgmtvm_config(common.config, opts.node);
    StorageContext ctx{cfg.node, cfg.vm_name, cfg.volume};
    std::unique_ptr<Storage> storage = make_storage(cfg.storage(), ctx);
    report.data["node"] = cfg.node;
    if (!storage->supports_lease())
        log::info(
            "{}: no lease: two nodes that both take themselves for the master in one minute "
            "(while a monitor quorum forms) can both start the VM; see mgmtvm-reconcile(1), "
            "The lease",
            cfg.node);

    make_dirs(cfg.state_dir);
    FileLock lock =
        FileLock::try_acquire(cfg.state_dir + "/mgmtvm-reconcile." + cfg.node + ".lock");

    // The whole tick has one deadline; a tick past it ends here and the next one starts over
    // (every action is repeat-safe).
    Watchdog watchdog(cfg.tick, [&common, &cfg] {
        Report r;
        r.tool = "mgmtvm-reconcile";
        r.failed = true;
        r.rc = kExitFailed;
        r.msg = fmt::format("{}: tick exceeded its deadline of {} s", cfg.node,
                            cfg.tick.count() / 1000.0);
        r.data["node"] = cfg.node;
        if (!common.dry_run) {
            try {
                record_tick_overrun(cfg, r.msg);
            } catch (const std::exception& e) {
                log::warn("cannot record the overrun: {}", e.what());
            }
        }
        exit_now(common, r);
    });

    TickResult tick = run_tick(cfg, *storage, common.dry_run);
    report.changed = tick.changed;
    report.failed = tick.failed;
    report.msg = tick.msg;
    report.data.update(tick.to_json());
    report.data["dry_run"] = common.dry_run;
}

}  // namespace storkit
