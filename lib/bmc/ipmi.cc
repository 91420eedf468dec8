#include "bmc/ipmi.h"

#include <freeipmi/freeipmi.h>
#include <gcrypt.h>

#include <algorithm>
#include <array>
#include <mutex>

#include "bmc/fiid_obj.h"

namespace storkit {

namespace {

FiidObj make_obj(fiid_template_t tmpl) {
    FiidObj obj(fiid_obj_create(tmpl));
    if (!obj) throw IpmiError("out of memory for an IPMI message", false);
    return obj;
}

uint64_t get_field(fiid_obj_t obj, const char* field) {
    uint64_t v = 0;
    if (FIID_OBJ_GET(obj, field, &v) < 0)
        throw IpmiError(fmt::format("reply without {}: {}", field, fiid_obj_errormsg(obj)), false);
    return v;
}

// Errors after which the same request can only fail again.
bool is_permanent(int errnum) {
    switch (errnum) {
        case IPMI_ERR_USERNAME_INVALID:
        case IPMI_ERR_PASSWORD_INVALID:
        case IPMI_ERR_K_G_INVALID:
        case IPMI_ERR_PRIVILEGE_LEVEL_INSUFFICIENT:
        case IPMI_ERR_PRIVILEGE_LEVEL_CANNOT_BE_OBTAINED:
        case IPMI_ERR_AUTHENTICATION_TYPE_UNAVAILABLE:
        case IPMI_ERR_CIPHER_SUITE_ID_UNAVAILABLE:
        case IPMI_ERR_PASSWORD_VERIFICATION_TIMEOUT:
        case IPMI_ERR_IPMI_2_0_UNAVAILABLE:
        case IPMI_ERR_HOSTNAME_INVALID:
        case IPMI_ERR_PARAMETERS:
        case IPMI_ERR_COMMAND_INVALID_OR_UNSUPPORTED:
        case IPMI_ERR_BAD_COMPLETION_CODE: return true;
        default: return false;
    }
}

uint8_t control_code(ChassisControl c) {
    switch (c) {
        case ChassisControl::kPowerDown: return IPMI_CHASSIS_CONTROL_POWER_DOWN;
        case ChassisControl::kPowerUp: return IPMI_CHASSIS_CONTROL_POWER_UP;
        case ChassisControl::kPowerCycle: return IPMI_CHASSIS_CONTROL_POWER_CYCLE;
        case ChassisControl::kHardReset: return IPMI_CHASSIS_CONTROL_HARD_RESET;
        case ChassisControl::kSoftShutdown: return IPMI_CHASSIS_CONTROL_INITIATE_SOFT_SHUTDOWN;
    }
    return IPMI_CHASSIS_CONTROL_POWER_UP;
}

// The one place the boot override is encoded, used both for sending and for the tests.
FiidObj fill_boot_once_pxe(BootMode mode) {
    FiidObj rq = make_obj(tmpl_cmd_set_system_boot_options_boot_flags_rq);
    uint8_t boot_type = mode == BootMode::kEfi
                            ? IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_TYPE_EFI
                            : IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_TYPE_PC_COMPATIBLE;
    if (fill_cmd_set_system_boot_options_boot_flags(
            IPMI_SYSTEM_BOOT_OPTIONS_PARAMETER_VALID_UNLOCKED, boot_type,
            IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_VALID_FOR_NEXT_BOOT,
            IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_VALID,
            IPMI_SYSTEM_BOOT_OPTION_DISABLE,  // lock out reset button
            IPMI_SYSTEM_BOOT_OPTION_DISABLE,  // screen blank
            IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_DEVICE_FORCE_PXE,
            IPMI_SYSTEM_BOOT_OPTION_DISABLE,  // lock keyboard
            IPMI_SYSTEM_BOOT_OPTION_DISABLE,  // CMOS clear
            IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_CONSOLE_REDIRECTION_DEFAULT,
            IPMI_SYSTEM_BOOT_OPTION_DISABLE,  // lock out sleep button
            IPMI_SYSTEM_BOOT_OPTION_DISABLE,  // user password bypass
            IPMI_SYSTEM_BOOT_OPTION_DISABLE,  // force progress event traps
            IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_FIRMWARE_BIOS_VERBOSITY_DEFAULT,
            IPMI_SYSTEM_BOOT_OPTION_DISABLE,  // lock out via power button
            IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAGS_SET_MUX_TO_RECOMENDED_AT_END_OF_POST,
            0,  // BIOS shared mode override
            0,  // device instance selector
            rq.get()) < 0)
        throw IpmiError(fmt::format("boot flags request: {}", fiid_obj_errormsg(rq.get())), true);
    return rq;
}

}  // namespace

void init_ipmi() {
    static std::once_flag once;
    // FreeIPMI initializes libgcrypt when it opens its first session, which here happens on many
    // threads at once; libgcrypt wants that done once, before other threads exist. This is the
    // sequence FreeIPMI uses; its own later calls then find libgcrypt ready.
    std::call_once(once, [] {
        gcry_check_version(nullptr);
        gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
        gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    });
}

bool valid_cipher_suite(int id) {
    static constexpr std::array<int, 12> kSupported{0, 1, 2, 3, 6, 7, 8, 11, 12, 15, 16, 17};
    return std::find(kSupported.begin(), kSupported.end(), id) != kSupported.end();
}

const char* to_string(ChassisControl c) {
    switch (c) {
        case ChassisControl::kPowerDown: return "power down";
        case ChassisControl::kPowerUp: return "power up";
        case ChassisControl::kPowerCycle: return "power cycle";
        case ChassisControl::kHardReset: return "hard reset";
        case ChassisControl::kSoftShutdown: return "soft shutdown";
    }
    return "?";
}

const char* to_string(BootMode m) {
    return m == BootMode::kEfi ? "efi" : "bios";
}

std::string BootFlags::device_name() const {
    switch (device) {
        case IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_DEVICE_NO_OVERRIDE: return "none";
        case IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_DEVICE_FORCE_PXE: return "pxe";
        case IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_DEVICE_FORCE_HARD_DRIVE: return "disk";
        case IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_DEVICE_FORCE_HARD_DRIVE_SAFE_MODE:
            return "safe";
        case IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_DEVICE_FORCE_DIAGNOSTIC_PARTITION:
            return "diag";
        case IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_DEVICE_FORCE_CD_DVD: return "cdrom";
        case IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_DEVICE_FORCE_BIOS_SETUP: return "bios";
        default: return fmt::format("device-{}", device);
    }
}

std::vector<uint8_t> boot_once_pxe_request(BootMode mode) {
    FiidObj rq = fill_boot_once_pxe(mode);
    std::vector<uint8_t> bytes(64);
    int n = fiid_obj_get_all(rq.get(), bytes.data(), static_cast<unsigned>(bytes.size()));
    if (n < 0) throw IpmiError(fiid_obj_errormsg(rq.get()), true);
    bytes.resize(static_cast<size_t>(n));
    return bytes;
}

IpmiSession::IpmiSession(const std::string& host_port, const IpmiLogin& login) : host_(host_port) {
    if (host_port.find(':') == std::string::npos)
        throw IpmiError(fmt::format("{}: no port given", host_port), true);
    init_ipmi();
    ctx_ = ipmi_ctx_create();
    if (!ctx_) throw IpmiError("cannot create an IPMI context", false);
    unsigned timeout = static_cast<unsigned>(std::max<long>(login.timeout.count(), 1));
    // FreeIPMI resends after waits of r, r, 2r, 2r, 3r, ... and notices the session timeout
    // only when a wait ends. With r = timeout/6 the fourth wait ends right at the timeout, so a
    // silent BMC costs the timeout and not up to a whole wait more, and a lost packet is sent
    // three more times.
    unsigned retransmit = std::max((timeout + 5) / 6, 1u);
    // ipmi_sim (and some BMCs) answer the Open Session request with the privilege level the
    // client asked for instead of the one granted; the workaround accepts that answer.
    if (ipmi_ctx_open_outofband_2_0(ctx_, host_port.c_str(), login.user.c_str(),
                                    login.password.c_str(), nullptr, 0, IPMI_PRIVILEGE_LEVEL_ADMIN,
                                    static_cast<uint8_t>(login.cipher_suite), timeout, retransmit,
                                    IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_OPEN_SESSION_PRIVILEGE,
                                    IPMI_FLAGS_DEFAULT) < 0) {
        int errnum = ipmi_ctx_errnum(ctx_);
        std::string msg = ipmi_ctx_errormsg(ctx_);
        ipmi_ctx_destroy(ctx_);
        ctx_ = nullptr;
        throw IpmiError(fmt::format("session: {}", msg), is_permanent(errnum));
    }
}

IpmiSession::~IpmiSession() {
    if (!ctx_) return;
    ipmi_ctx_close(ctx_);
    ipmi_ctx_destroy(ctx_);
}

void IpmiSession::fail(const std::string& what) {
    int errnum = ipmi_ctx_errnum(ctx_);
    throw IpmiError(fmt::format("{}: {}", what, ipmi_ctx_errormsg(ctx_)), is_permanent(errnum));
}

bool IpmiSession::power_is_on() {
    FiidObj rs = make_obj(tmpl_cmd_get_chassis_status_rs);
    if (ipmi_cmd_get_chassis_status(ctx_, rs.get()) < 0) fail("get chassis status");
    return get_field(rs.get(), "current_power_state.power_is_on") != 0;
}

void IpmiSession::chassis_control(ChassisControl c) {
    FiidObj rs = make_obj(tmpl_cmd_chassis_control_rs);
    if (ipmi_cmd_chassis_control(ctx_, control_code(c), rs.get()) < 0) fail(to_string(c));
}

void IpmiSession::set_boot_once_pxe(BootMode mode) {
    FiidObj rq = fill_boot_once_pxe(mode);
    FiidObj rs = make_obj(tmpl_cmd_set_system_boot_options_rs);
    if (ipmi_cmd(ctx_, IPMI_BMC_IPMB_LUN_BMC, IPMI_NET_FN_CHASSIS_RQ, rq.get(), rs.get()) < 0)
        fail("set boot flags");
    // The generic ipmi_cmd() leaves the completion code to the caller.
    if (ipmi_check_completion_code_success(rs.get()) != 1) {
        char text[256] = "unknown completion code";
        ipmi_completion_code_strerror_cmd_r(rs.get(), IPMI_NET_FN_CHASSIS_RS, text, sizeof text);
        throw IpmiError(fmt::format("set boot flags: {}", text), true);
    }
}

BootFlags IpmiSession::boot_flags() {
    FiidObj rs = make_obj(tmpl_cmd_get_system_boot_options_boot_flags_rs);
    if (ipmi_cmd_get_system_boot_options_boot_flags(ctx_, IPMI_SYSTEM_BOOT_OPTIONS_NO_SET_SELECTOR,
                                                    IPMI_SYSTEM_BOOT_OPTIONS_NO_BLOCK_SELECTOR,
                                                    rs.get()) < 0)
        fail("get boot flags");
    BootFlags f;
    f.valid = get_field(rs.get(), "boot_flags_valid") != 0;
    f.persistent = get_field(rs.get(), "boot_flags_persistent") != 0;
    f.efi = get_field(rs.get(), "bios_boot_type") != 0;
    f.device = static_cast<int>(get_field(rs.get(), "boot_device"));
    return f;
}

}  // namespace storkit
