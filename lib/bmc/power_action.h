// Power actions on BMCs: what each action sends, the state read back after it, and the
// fan-out over many BMCs.
#pragma once

#include <chrono>
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

inline constexpr const char* kPowerActionNames = "status|on|off|soft|cycle|reset|pxe|pxe-boot";
std::optional<PowerAction> parse_power_action(std::string_view name);
const char* to_string(PowerAction a);
// Whether the action can change anything (everything but status).
bool changes_state(PowerAction a);

struct PowerSettings {
    IpmiLogin login;
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

// One attempt of `action` on `r.host`, filling `r`. A state-changing command whose answer was
// lost is not sent again by a later attempt: that attempt only reads the state back.
Attempt power_attempt(PowerAction action, const PowerSettings& settings, BmcResult& r);

// `action` on every host through the fan-out engine; results in the order of `hosts`.
std::vector<BmcResult> power_fanout(const std::vector<std::string>& hosts, PowerAction action,
                                    const PowerSettings& settings, const FanoutOptions& fanout);

}  // namespace storkit
