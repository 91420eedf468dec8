#include "mgmtvm/backend_command.h"

#include <fmt/format.h>

#include "core/error.h"
#include "core/exec.h"
#include "core/trust.h"

namespace storkit {

namespace {

// The program of the command at `key` runs as root: only root may be able to change it.
void require_trusted(const ConfigNode& cfg, const char* key, const Argv& argv) {
    if (argv.empty()) return;  // the command did not read; its problem is recorded
    try {
        require_root_only_writable(argv[0], "command " + cfg.key_path(key));
    } catch (const ConfigError& e) {
        cfg.problem(key, e);
    }
}

std::optional<Argv> optional_command(const ConfigNode& cfg, const char* key) {
    std::optional<Argv> a = cfg.argv_opt(key);
    if (a) require_trusted(cfg, key, *a);
    return a;
}

}  // namespace

CommandStorageConfig parse_command_storage(const ConfigNode& cfg) {
    cfg.allow_only(kCommandStorageKeys);
    CommandStorageConfig c;
    c.service_health = cfg.argv("service_health");
    c.volume_health = cfg.argv("volume_health");
    c.is_master = cfg.argv("is_master");
    require_trusted(cfg, "service_health", c.service_health);
    require_trusted(cfg, "volume_health", c.volume_health);
    require_trusted(cfg, "is_master", c.is_master);
    c.timeout = seconds_to_ms(cfg.positive_or("timeout_s", 3, 600));
    c.lease_acquire = optional_command(cfg, "lease_acquire");
    c.lease_renew = optional_command(cfg, "lease_renew");
    c.lease_release = optional_command(cfg, "lease_release");
    c.lease_holder = optional_command(cfg, "lease_holder");
    // Which keys are given, not which read well: a bad one has its own problem.
    int lease_keys = cfg.has("lease_acquire") + cfg.has("lease_renew") + cfg.has("lease_release") +
                     cfg.has("lease_holder");
    if (lease_keys != 0 && lease_keys != 4)
        cfg.problem("lease_acquire",
                    "the lease needs all four of lease_acquire, lease_renew, "
                    "lease_release and lease_holder");
    c.fence = optional_command(cfg, "fence");
    c.shared_get = optional_command(cfg, "shared_get");
    c.shared_put = optional_command(cfg, "shared_put");
    if (cfg.has("shared_get") != cfg.has("shared_put"))
        cfg.problem("shared_get", "the shared store needs both shared_get and shared_put");
    return c;
}

CommandStorage::CommandStorage(CommandStorageConfig cfg, StorageContext ctx)
    : cfg_(std::move(cfg)), ctx_(std::move(ctx)) {}

struct CommandStorage::Run {
    ExecResult result;
    std::string detail;  // "exit 1", "timed out after 10 s", plus the first line of stderr
};

CommandStorage::Run CommandStorage::run(const Argv& argv, std::map<std::string, std::string> env,
                                        const std::string& input) const {
    ExecRequest req;
    req.argv = argv;
    req.timeout = cfg_.timeout;
    req.stdin_data = input;
    req.env = std::move(env);
    req.env["STORKIT_NODE"] = ctx_.node;
    req.env["STORKIT_VM"] = ctx_.vm;
    req.env["STORKIT_VOLUME"] = ctx_.volume;
    Run r{run_command(req), ""};
    if (r.result.timed_out)
        r.detail = fmt::format("{}: timed out after {} s", argv[0], cfg_.timeout.count() / 1000.0);
    else if (!r.result.started || r.result.signal)
        r.detail = r.result.describe();
    else
        r.detail = fmt::format("{}exit {}", r.result.exit_code > 1 ? argv[0] + ": " : "",
                               r.result.exit_code);
    // The command's own words (first line of stderr) help the operator most.
    if (!r.result.ok() && !r.result.err.empty()) {
        std::string first = r.result.err.substr(0, r.result.err.find('\n'));
        if (!first.empty()) r.detail += ": " + first.substr(0, 200);
    }
    return r;
}

StorageAnswer CommandStorage::ask(const Argv& argv, std::map<std::string, std::string> env) const {
    Run r = run(argv, std::move(env));
    StorageAnswer a{Tri::kUnknown, r.detail};
    bool answered = r.result.started && !r.result.timed_out && r.result.signal == 0;
    if (answered && r.result.exit_code == 0) a.value = Tri::kYes;
    if (answered && r.result.exit_code == 1) a.value = Tri::kNo;
    return a;
}

StorageAnswer CommandStorage::service_healthy() {
    return ask(cfg_.service_health);
}
StorageAnswer CommandStorage::volume_healthy() {
    return ask(cfg_.volume_health);
}
StorageAnswer CommandStorage::is_master() {
    return ask(cfg_.is_master);
}

VmLeaseOutcome CommandStorage::lease_read() {
    if (!cfg_.lease_holder) return {VmLeaseStatus::kError, {}, "no lease support"};
    Run r = run(*cfg_.lease_holder);
    if (!r.result.ok()) return {VmLeaseStatus::kError, {}, "lease_holder: " + r.detail};
    try {
        nlohmann::json j = nlohmann::json::parse(r.result.out);
        VmLease l = VmLease::from_json(j);
        l.now = j.contains("now") ? j["now"].get<double>() : now();
        return {VmLeaseStatus::kOk, l, "lease_holder"};
    } catch (const std::exception& e) {
        return {VmLeaseStatus::kError,
                {},
                fmt::format("lease_holder: expected JSON with node, epoch, expires: {}", e.what())};
    }
}

VmLeaseOutcome CommandStorage::lease_op(const Argv& argv, double seconds, VmLeaseStatus on_refusal,
                                        const char* done, std::map<std::string, std::string> env) {
    env["STORKIT_LEASE_S"] = fmt::format("{}", seconds);
    Run r = run(argv, std::move(env));
    bool answered = r.result.started && !r.result.timed_out && r.result.signal == 0;
    VmLeaseOutcome read = lease_read();
    // Without the holder record the outcome has no epoch or holder to act on: a refusal must
    // not look like a lease nobody holds (which the holder of a running VM would take), nor a
    // success like epoch 0.
    if (answered && (r.result.exit_code == 0 || r.result.exit_code == 1) &&
        read.status != VmLeaseStatus::kOk)
        return {VmLeaseStatus::kError,
                {},
                fmt::format("{}, but {}", r.result.exit_code == 0 ? done : "refused", read.detail)};
    if (answered && r.result.exit_code == 0)
        return {VmLeaseStatus::kOk, read.info, fmt::format("{} epoch {}", done, read.info.epoch)};
    if (answered && r.result.exit_code == 1) return {on_refusal, read.info, r.detail};
    return {VmLeaseStatus::kError, read.info, r.detail};
}

VmLeaseOutcome CommandStorage::lease_acquire(double seconds) {
    return lease_op(*cfg_.lease_acquire, seconds, VmLeaseStatus::kBusy, "acquired");
}
VmLeaseOutcome CommandStorage::lease_break(double seconds, const VmLease& held) {
    return lease_op(
        *cfg_.lease_acquire, seconds, VmLeaseStatus::kBusy, "acquired",
        {{"STORKIT_BREAK_HOLDER", held.node}, {"STORKIT_BREAK_EPOCH", std::to_string(held.epoch)}});
}
VmLeaseOutcome CommandStorage::lease_renew(double seconds) {
    return lease_op(*cfg_.lease_renew, seconds, VmLeaseStatus::kLost, "renewed");
}
VmLeaseOutcome CommandStorage::lease_release() {
    return lease_op(*cfg_.lease_release, 0, VmLeaseStatus::kLost, "released");
}

StorageAnswer CommandStorage::fence(uint64_t epoch) {
    if (!cfg_.fence) return {Tri::kUnknown, "no fence command configured"};
    return ask(*cfg_.fence, {{"STORKIT_EPOCH", std::to_string(epoch)}});
}

std::optional<std::string> CommandStorage::shared_read(const std::string& key) {
    if (!cfg_.shared_get) return std::nullopt;
    Run r = run(*cfg_.shared_get, {{"STORKIT_KEY", key}});
    if (r.result.ok()) return r.result.out;
    if (r.result.started && !r.result.timed_out && r.result.exit_code == 1) return std::nullopt;
    throw Error("shared_get " + key + ": " + r.detail);
}

void CommandStorage::shared_write(const std::string& key, const std::string& value) {
    if (!cfg_.shared_put) Storage::shared_write(key, value);
    Run r = run(*cfg_.shared_put, {{"STORKIT_KEY", key}}, value);
    if (!r.result.ok()) throw Error("shared_put " + key + ": " + r.detail);
}

bool CommandStorage::shared_replace(const std::string& key,
                                    const std::optional<std::string>& expected,
                                    const std::string& value) {
    if (!cfg_.shared_put) Storage::shared_write(key, value);
    // The record travels in the environment, whose strings the kernel caps at 128 KiB.
    constexpr size_t kMaxExpected = size_t{64} * 1024;
    if (expected && expected->size() > kMaxExpected)
        throw Error(fmt::format("shared_put {}: the record is {} bytes, more than {} to compare",
                                key, expected->size(), kMaxExpected));
    std::map<std::string, std::string> env = {{"STORKIT_KEY", key}};
    if (expected)
        env["STORKIT_EXPECT"] = *expected;
    else
        env["STORKIT_EXPECT_ABSENT"] = "1";
    Run r = run(*cfg_.shared_put, std::move(env), value);
    if (r.result.ok()) return true;
    if (r.result.started && !r.result.timed_out && r.result.exit_code == 1) return false;
    throw Error("shared_put " + key + ": " + r.detail);
}

}  // namespace storkit
