// Power actions on BMCs: what each action sends, the state read back after it, and the
// fan-out over many BMCs.
#pragma once

#include <chrono>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bmc/ipmi.h"
#include "core/fanout.h"

namespace storkit {

enum class PowerAction {
    kStatus,   // read the power state
    kOn,       // power up unless on
    kOff,      // power down (hard) unless off
    kSoft,     // ask the OS to shut down (ACPI) unless off
    kCycle,    // power cycle when on, power up when off
    kReset,    // hard reset when on, power up when off
    kPxe,      // one-time boot override to PXE for the next boot
    kPxeBoot,  // kPxe, then power up (or cycle when already on): boot from PXE now
};

// Every action, in the enum's order: its name (bmc-power's argument, the --json report), what a
// dry run says it would do (`{}` is the boot mode), and whether an attempt whose answer got lost
// may simply be made again (the action looks at the state first, so a second attempt sends
// nothing the first one already did). Parsing, the names, --help and the dry run read this table.
struct PowerActionInfo {
    PowerAction action;
    const char* name;
    const char* dry_run;
    bool repeat_safe;
};
inline constexpr PowerActionInfo kPowerActions[] = {
    {PowerAction::kStatus, "status", "would read the power state", true},
    {PowerAction::kOn, "on", "would power on unless on", true},
    {PowerAction::kOff, "off", "would power off unless off", true},
    {PowerAction::kSoft, "soft", "would ask the OS to shut down unless off", false},
    {PowerAction::kCycle, "cycle", "would power cycle (power on if off)", false},
    {PowerAction::kReset, "reset", "would hard reset (power on if off)", false},
    {PowerAction::kPxe, "pxe", "would set PXE ({}) for the next boot", true},
    {PowerAction::kPxeBoot, "pxe-boot",
     "would set PXE ({}) for the next boot, then power on (cycle if on)", false},
};
constexpr bool power_actions_in_order() {
    for (size_t i = 0; i < std::size(kPowerActions); ++i)
        if (static_cast<size_t>(kPowerActions[i].action) != i) return false;
    return std::size(kPowerActions) == static_cast<size_t>(PowerAction::kPxeBoot) + 1;
}
static_assert(power_actions_in_order(), "kPowerActions: one row per PowerAction, in order");

const PowerActionInfo& power_action_info(PowerAction a);
std::optional<PowerAction> parse_power_action(std::string_view name);
const char* to_string(PowerAction a);
// Every action's name, separated by `|`: "status|on|...|pxe-boot".
std::string power_action_names();
// What a dry run of `a` says it would do, e.g. "would set PXE (efi) for the next boot".
std::string power_action_dry_run(PowerAction a, BootMode mode);

struct PowerSettings {
    IpmiLogin login;  // every BMC's, unless power_fanout is given one per BMC
    BootMode boot_mode = BootMode::kBios;
    // After a change, how long to keep reading the power state until it shows the expected one.
    std::chrono::milliseconds settle{10000};
};

// One BMC's result: what was seen before, what was sent, what was read back.
struct BmcResult {
    std::string host;  // "address:port"
    PowerAction action = PowerAction::kStatus;
    bool ok = false;
    bool changed = false;
    std::optional<bool> was_on;         // power state before the action
    std::optional<bool> is_on;          // power state read back at the end
    std::optional<BootFlags> boot;      // boot flags read back (pxe, pxe-boot)
    std::optional<BootMode> boot_mode;  // the boot override asked for (pxe, pxe-boot)
    std::vector<std::string> sent;      // the state-changing commands sent, in order
    bool power_sent = false;            // a chassis control command went out (maybe unanswered)
    std::string error;                  // why it failed
    int attempts = 0;
    std::chrono::system_clock::time_point started;
    std::chrono::system_clock::time_point finished;

    // "10.0.0.5:623: on (was off)", "10.0.0.9:623: failed: session: password invalid".
    std::string line() const;
    nlohmann::json to_json() const;
};

// One attempt of `action` on `r.host` with `login` (settings.login, or the host's own), filling
// `r`. A state-changing command whose answer was lost is not sent again by a later attempt:
// that attempt only reads the state back.
Attempt power_attempt(PowerAction action, const PowerSettings& settings, const IpmiLogin& login,
                      BmcResult& r);

// `action` on every host through the fan-out engine; results in the order of `hosts`.
// `logins` is empty (settings.login for every host) or holds one login per host, in the order
// of `hosts`, for BMCs that do not share one.
std::vector<BmcResult> power_fanout(const std::vector<std::string>& hosts, PowerAction action,
                                    const PowerSettings& settings, const FanoutOptions& fanout,
                                    const std::vector<IpmiLogin>& logins = {});

}  // namespace storkit
