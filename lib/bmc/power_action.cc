#include "bmc/power_action.h"

#include <thread>

#include "core/clock.h"
#include "core/log.h"

namespace storkit {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr int kPxeDevice = 1;  // boot device selector "force PXE"

const char* on_off(bool on) {
    return on ? "on" : "off";
}

bool read_power(IpmiSession& s, BmcResult& r) {
    bool on = s.power_is_on();
    if (!r.was_on) r.was_on = on;
    r.is_on = on;
    return on;
}

void send(IpmiSession& s, ChassisControl c, BmcResult& r) {
    // Recorded before the call: a command whose answer is lost may still have been carried out.
    r.sent.push_back(to_string(c));
    r.power_sent = true;
    r.changed = true;
    s.chassis_control(c);
}

// Reads the power state back until it is `want`. Polls quickly at first (most BMCs switch at
// once), then more slowly, until the settle time is used up.
void wait_for_power(IpmiSession& s, bool want, milliseconds settle, BmcResult& r) {
    auto deadline = steady_clock::now() + settle;
    milliseconds pause{10};
    for (;;) {
        r.is_on = s.power_is_on();
        if (*r.is_on == want) return;
        if (steady_clock::now() + pause > deadline)
            throw IpmiError(fmt::format("power still {} {} ms after {}", on_off(*r.is_on),
                                        settle.count(), r.sent.empty() ? "" : r.sent.back()),
                            true);
        log::debug("{}: power reads {} after {}; again in {} ms", r.host, on_off(*r.is_on),
                   r.sent.empty() ? "" : r.sent.back(), pause.count());
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, milliseconds{500});
    }
}

void set_pxe(IpmiSession& s, const PowerSettings& settings, BmcResult& r) {
    r.boot_mode = settings.boot_mode;
    r.sent.push_back(fmt::format("boot pxe once ({})", to_string(settings.boot_mode)));
    r.changed = true;
    s.set_boot_once_pxe(settings.boot_mode);
    BootFlags flags = s.boot_flags();
    r.boot = flags;
    if (flags.device != kPxeDevice)
        throw IpmiError(
            fmt::format("boot device reads back as {} after setting pxe", flags.device_name()),
            true);
}

void run_action(IpmiSession& s, PowerAction action, const PowerSettings& settings, BmcResult& r) {
    switch (action) {
        case PowerAction::kStatus: read_power(s, r); return;
        case PowerAction::kOn:
        case PowerAction::kOff: {
            bool want = action == PowerAction::kOn;
            if (read_power(s, r) == want) return;
            send(s, want ? ChassisControl::kPowerUp : ChassisControl::kPowerDown, r);
            wait_for_power(s, want, settings.settle, r);
            return;
        }
        case PowerAction::kSoft:
            if (!read_power(s, r)) return;
            send(s, ChassisControl::kSoftShutdown, r);
            r.is_on = s.power_is_on();  // the OS takes its time: report, don't wait
            return;
        case PowerAction::kCycle:
        case PowerAction::kReset:
        case PowerAction::kPxeBoot: {
            if (action == PowerAction::kPxeBoot) set_pxe(s, settings, r);
            ChassisControl when_on = action == PowerAction::kReset ? ChassisControl::kHardReset
                                                                   : ChassisControl::kPowerCycle;
            // Many BMCs refuse a cycle or reset of a node that is off: power it up instead,
            // which gives the same fresh boot.
            send(s, read_power(s, r) ? when_on : ChassisControl::kPowerUp, r);
            wait_for_power(s, true, settings.settle, r);
            return;
        }
        case PowerAction::kPxe: set_pxe(s, settings, r); return;
    }
}

// Whether a boot used up the one-time PXE override: the BMC sets the device back when the node
// boots with it. Only the device counts: some BMCs never read the valid bit back as set, and
// a BMC that only clears that bit gives no proof (the run fails rather than guess).
bool override_used(IpmiSession& s, BmcResult& r) {
    BootFlags flags = s.boot_flags();
    r.boot = flags;
    return flags.device != kPxeDevice;
}

// A later attempt after a cycle, reset or soft shutdown was sent: only look, never send it
// again (a node that did cycle would cycle twice). A power-up of a node that was off is proven
// by the power reading on. A cycle or reset of a node that was on is done only when the
// read-back shows it happened: the power seen off, then on again, or (pxe-boot) the PXE
// override used up by a boot. Without such proof the node may never have got the command: the
// attempt fails for good, saying so.
void verify_action(IpmiSession& s, PowerAction action, const PowerSettings& settings,
                   BmcResult& r) {
    if (action == PowerAction::kSoft) {
        r.is_on = s.power_is_on();
        return;
    }
    if (!r.was_on.value_or(false)) {
        wait_for_power(s, true, settings.settle, r);
        return;
    }
    if (action == PowerAction::kPxeBoot && override_used(s, r)) {
        wait_for_power(s, true, settings.settle, r);
        return;
    }
    auto deadline = steady_clock::now() + settings.settle;
    milliseconds pause{10};
    bool seen_off = false;
    for (;;) {
        r.is_on = s.power_is_on();
        seen_off = seen_off || !*r.is_on;
        if (seen_off && *r.is_on) return;  // off, then on: it cycled
        if (steady_clock::now() + pause > deadline) break;
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, milliseconds{500});
    }
    std::string sent = r.sent.empty() ? "" : r.sent.back();
    if (seen_off)
        throw IpmiError(
            fmt::format("power still off {} ms after {}", settings.settle.count(), sent), true);
    throw IpmiError(
        fmt::format("the answer to {} was lost, and nothing read back proves it was carried out "
                    "(power on throughout{}): the node may not have restarted; check it, then "
                    "run again",
                    sent, action == PowerAction::kPxeBoot ? ", the PXE override still set" : ""),
        true);
}

}  // namespace

const PowerActionInfo& power_action_info(PowerAction a) {
    return kPowerActions[static_cast<size_t>(a)];
}

std::optional<PowerAction> parse_power_action(std::string_view name) {
    for (const PowerActionInfo& i : kPowerActions)
        if (name == i.name) return i.action;
    return std::nullopt;
}

const char* to_string(PowerAction a) {
    return power_action_info(a).name;
}

std::string power_action_names() {
    std::vector<std::string_view> names;
    for (const PowerActionInfo& i : kPowerActions) names.push_back(i.name);
    return fmt::format("{}", fmt::join(names, "|"));
}

std::string power_action_dry_run(PowerAction a, BootMode mode) {
    return fmt::format(fmt::runtime(power_action_info(a).dry_run), to_string(mode));
}

std::string BmcResult::line() const {
    if (!ok)
        return fmt::format("{}: failed: {}{}", host, error,
                           attempts > 1 ? fmt::format(" ({} attempts)", attempts) : "");
    std::string state = is_on ? on_off(*is_on) : "unknown";
    bool was = was_on.value_or(false);
    std::string how;
    switch (action) {
        case PowerAction::kStatus: return fmt::format("{}: {}", host, state);
        case PowerAction::kPxe:
            return fmt::format("{}: next boot {} ({})", host, boot ? boot->device_name() : "?",
                               to_string(boot_mode.value_or(BootMode::kBios)));
        case PowerAction::kOn:
        case PowerAction::kOff:
            how = changed ? fmt::format("was {}", on_off(was)) : "unchanged";
            break;
        case PowerAction::kSoft:
            how = !changed               ? "unchanged"
                  : is_on.value_or(true) ? "soft shutdown requested"
                                         : "was on";
            break;
        case PowerAction::kCycle: how = was ? "cycled" : "was off"; break;
        case PowerAction::kReset: how = was ? "reset" : "was off"; break;
        case PowerAction::kPxeBoot:
            return fmt::format("{}: {}, booting pxe ({}, {})", host, state,
                               to_string(boot_mode.value_or(BootMode::kBios)),
                               was ? "cycled" : "was off");
    }
    return fmt::format("{}: {} ({})", host, state, how);
}

nlohmann::json BmcResult::to_json() const {
    nlohmann::json j = {
        {"host", host},
        {"action", to_string(action)},
        {"ok", ok},
        {"changed", changed},
        {"power", is_on ? nlohmann::json(on_off(*is_on)) : nlohmann::json()},
        {"was", was_on ? nlohmann::json(on_off(*was_on)) : nlohmann::json()},
        {"sent", sent},
        {"attempts", attempts},
        {"started", epoch_seconds(started)},
        {"finished", epoch_seconds(finished)},
        {"elapsed_ms", std::chrono::duration_cast<milliseconds>(finished - started).count()},
    };
    if (boot)
        j["boot"] = {{"device", boot->device_name()},
                     {"valid", boot->valid},
                     {"persistent", boot->persistent},
                     {"efi", boot->efi}};
    if (boot_mode) j["boot_mode"] = to_string(*boot_mode);
    if (!ok) j["error"] = error;
    return j;
}

Attempt power_attempt(PowerAction action, const PowerSettings& settings, const IpmiLogin& login,
                      BmcResult& r) {
    r.action = action;
    try {
        IpmiSession session(r.host, login);
        if (r.power_sent && !power_action_info(action).repeat_safe)
            verify_action(session, action, settings, r);
        else
            run_action(session, action, settings, r);
        r.ok = true;
        r.error.clear();
        return Attempt::kDone;
    } catch (const IpmiError& e) {
        r.ok = false;
        r.error = e.what();
        return e.permanent() ? Attempt::kGiveUp : Attempt::kRetry;
    }
}

std::vector<BmcResult> power_fanout(const std::vector<std::string>& hosts, PowerAction action,
                                    const PowerSettings& settings, const FanoutOptions& fanout,
                                    const std::vector<IpmiLogin>& logins) {
    if (!logins.empty() && logins.size() != hosts.size())
        throw Error(
            fmt::format("power_fanout: {} logins for {} hosts", logins.size(), hosts.size()));
    std::vector<BmcResult> results(hosts.size());
    for (size_t i = 0; i < hosts.size(); ++i) {
        results[i].host = hosts[i];
        results[i].action = action;
    }
    std::vector<FanoutOutcome> outcomes =
        run_fanout(hosts.size(), fanout, [&](size_t i, int /*attempt*/) {
            return power_attempt(action, settings, logins.empty() ? settings.login : logins[i],
                                 results[i]);
        });
    for (size_t i = 0; i < hosts.size(); ++i) {
        BmcResult& r = results[i];
        r.attempts = outcomes[i].attempts;
        r.started = outcomes[i].started;
        r.finished = outcomes[i].finished;
        if (!outcomes[i].error.empty()) {
            r.ok = false;
            r.error = outcomes[i].error;
        }
    }
    return results;
}

}  // namespace storkit
