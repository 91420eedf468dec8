// One IPMI 2.0 (RMCP+, "lanplus") session with one BMC, on libfreeipmi: chassis power state and
// control, and the one-time boot device override.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

struct ipmi_ctx;

namespace storkit {

// The RMCP+ (IPMI over LAN) port a BMC answers on unless told otherwise.
constexpr int kIpmiPort = 623;

// Who we are to the BMCs. The password is a secret: it never goes into a message.
struct IpmiLogin {
    std::string user = "admin";
    std::string password;
    int cipher_suite = 3;  // HMAC-SHA1 authentication and integrity, AES-CBC-128 confidentiality
    // How long to wait for the BMC's answer to the session setup or to one command (FreeIPMI
    // retransmits within it).
    std::chrono::milliseconds timeout{5000};
};

// Sets up FreeIPMI's crypto library. Call on the main thread before sessions are opened on
// other threads (libgcrypt wants its initialization done before threads exist); later calls
// do nothing.
void init_ipmi();

// The cipher suite ids FreeIPMI supports; valid_cipher_suite() checks one.
bool valid_cipher_suite(int id);

// A failure talking to a BMC. `permanent` means that trying again cannot help (a wrong
// password, a cipher suite the BMC lacks, a command it refuses); a timeout is not permanent.
class IpmiError : public Error {
  public:
    IpmiError(const std::string& msg, bool permanent) : Error(msg), permanent_(permanent) {}
    bool permanent() const { return permanent_; }

  private:
    bool permanent_;
};

enum class ChassisControl { kPowerDown, kPowerUp, kPowerCycle, kHardReset, kSoftShutdown };
const char* to_string(ChassisControl c);

enum class BootMode { kBios, kEfi };
const char* to_string(BootMode m);

// The boot flags (boot option parameter 5) as the BMC reports them.
struct BootFlags {
    bool valid = false;               // an override is set
    bool persistent = false;          // for every boot, not just the next one
    bool efi = false;                 // the BIOS boot type is EFI
    int device = 0;                   // IPMI boot device selector (1 = PXE)
    std::string device_name() const;  // "pxe", "disk", "none", ...
};

// The request data of "Set System Boot Options, boot flags" for a PXE boot on the next boot
// only, in `mode`: exactly the bytes sent (command byte first). Exposed for tests.
std::vector<uint8_t> boot_once_pxe_request(BootMode mode);

// An open session; closed (and the libfreeipmi context freed) by the destructor.
class IpmiSession {
  public:
    // Opens an IPMI 2.0 session at ADMINISTRATOR privilege. `host_port` must name its port
    // ("10.0.0.5:623"): FreeIPMI takes a bare local address for the in-band device.
    // Throws IpmiError.
    IpmiSession(const std::string& host_port, const IpmiLogin& login);
    ~IpmiSession();
    IpmiSession(const IpmiSession&) = delete;
    IpmiSession& operator=(const IpmiSession&) = delete;

    const std::string& host() const { return host_; }
    bool power_is_on();
    void chassis_control(ChassisControl c);
    void set_boot_once_pxe(BootMode mode);
    BootFlags boot_flags();

  private:
    [[noreturn]] void fail(const std::string& what);
    std::string host_;
    ipmi_ctx* ctx_ = nullptr;
};

}  // namespace storkit
