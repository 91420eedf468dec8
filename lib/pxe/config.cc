#include "pxe/config.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "bmc/ipmi.h"
#include "core/error.h"
#include "core/secret.h"
#include "core/trust.h"
#include "pxe/config_parts.h"

#ifndef STORKIT_SBINDIR
#define STORKIT_SBINDIR "/usr/sbin"
#endif

namespace storkit {

using namespace pxe_config;

const std::vector<std::string>& builtin_template_vars() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (const TemplateVarName& t : kTemplateVars) v.emplace_back(t.name);
        return v;
    }();
    return names;
}

namespace {

using pxe_config::kRootKeys;
constexpr std::string_view kBmcKeys[] = {"subnet",       "user",       "password_file",
                                         "cipher_suite", "timeout_ms", "retries"};
constexpr std::string_view kDataKeys[] = {"subnet", "pool", "gateway", "dns", "domain", "lease_s"};
constexpr std::string_view kServerKeys[] = {"interface", "address", "http_port",
                                            "dns",       "hook",    "user"};
constexpr std::string_view kIsoKeys[] = {"repository", "version", "kernel", "initrd"};
using pxe_config::kPathsKeys;
constexpr std::string_view kBootKeys[] = {"firmware", "loader", "kernel_args"};
constexpr std::string_view kInstallKeys[] = {"template", "vars", "secret_files", "report"};
constexpr std::string_view kPowerKeys[] = {"wave", "interval_s", "bind_timeout_s", "boot_mode"};
constexpr std::string_view kMonitorKeys[] = {"dhcp_s",  "kickstart_s", "heartbeat_s", "install_s",
                                             "retries", "feedback",    "notify"};
constexpr std::string_view kGroupKeys[] = {"vars", "bmc_user", "bmc_password_file"};
constexpr std::string_view kNodeKeys[] = {"bmc",   "mac",  "ip",       "order",
                                          "group", "vars", "bmc_user", "bmc_password_file"};

constexpr ConfigSection kSections[] = {
    {"", kRootKeys},           {"bmc", kBmcKeys},           {"data", kDataKeys},
    {"server", kServerKeys},   {"iso", kIsoKeys},           {"paths", kPathsKeys},
    {"boot", kBootKeys},       {"install", kInstallKeys},   {"power", kPowerKeys},
    {"monitor", kMonitorKeys}, {"groups.NAME", kGroupKeys}, {"nodes.NAME", kNodeKeys},
};

void load_bmc(PxeConfig& c, const ConfigNode& root) {
    ConfigNode bmc = root.object("bmc");
    bmc.allow_only(kBmcKeys);
    c.bmc_subnet = subnet(bmc, "subnet");
    c.bmc_user = bmc.string("user");
    c.bmc_password_file = abs_path(bmc, "password_file", "");
    c.bmc_cipher_suite = static_cast<int>(bmc.integer_or("cipher_suite", 3, 0, 17));
    if (!valid_cipher_suite(c.bmc_cipher_suite))
        bmc.problem("cipher_suite", fmt::format("{} is not a cipher suite FreeIPMI supports "
                                                "(0-3, 6-8, 11, 12, 15-17)",
                                                c.bmc_cipher_suite));
    c.bmc_timeout_ms = bmc.integer_or("timeout_ms", 5000, 100, 600000);
    c.bmc_retries = static_cast<int>(bmc.integer_or("retries", 1, 0, 10));
}

// A check that combines keys runs only when each of them read well (ConfigNode::ok), so that
// one bad value is one problem.
void load_pool(PxeConfig& c, const ConfigNode& data) {
    std::string why, pool_text = data.string("pool");
    std::optional<AddressRange> pool = parse_range(pool_text, &why);
    if (!pool) return data.problem("pool", fmt::format("\"{}\": {}", pool_text, why));
    c.pool = *pool;
    if (!data.ok("subnet")) return;
    if (!c.data_subnet.contains(c.pool.first) || !c.data_subnet.contains(c.pool.last))
        data.problem(
            "pool", fmt::format("{} is outside data.subnet {}", c.pool.str(), c.data_subnet.str()));
    else if (c.pool.contains(c.data_subnet.network) || c.pool.contains(c.data_subnet.broadcast()))
        data.problem("pool", fmt::format("{} includes the network or broadcast address of {}",
                                         c.pool.str(), c.data_subnet.str()));
}

void load_data(PxeConfig& c, const ConfigNode& root) {
    ConfigNode data = root.object("data");
    data.allow_only(kDataKeys);
    c.data_subnet = subnet(data, "subnet");
    if (root.ok("bmc.subnet") && data.ok("subnet") && c.data_subnet.overlaps(c.bmc_subnet))
        data.problem("subnet", fmt::format("{} overlaps bmc.subnet {}", c.data_subnet.str(),
                                           c.bmc_subnet.str()));
    load_pool(c, data);
    if (data.has("gateway")) {
        c.gateway = address(data, "gateway");
        if (data.ok("subnet"))
            require_host(data, "gateway", *c.gateway, c.data_subnet, "data.subnet");
        if (data.ok("pool") && c.pool.contains(*c.gateway))
            data.problem("gateway", fmt::format("{} is inside data.pool {}",
                                                ipv4_string(*c.gateway), c.pool.str()));
    }
    for (const std::string& d : data.strings_or("dns", {})) {
        std::optional<Ipv4> a = parse_ipv4(d);
        if (!a) data.problem("dns", fmt::format("\"{}\" is not an IPv4 address", d));
        if (a) c.dns.push_back(*a);
    }
    c.domain = data.string_or("domain", "");
    bool domain_ok = std::all_of(c.domain.begin(), c.domain.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
    });
    // RFC 1035: at most 253 characters, labels of 1 to 63; dnsmasq refuses longer ones.
    bool labels_ok = c.domain.size() <= 253;
    for (size_t start = 0; labels_ok && !c.domain.empty();) {
        size_t dot = c.domain.find('.', start);
        size_t len = (dot == std::string::npos ? c.domain.size() : dot) - start;
        labels_ok = len >= 1 && len <= 63;
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    if (!domain_ok || !labels_ok)
        data.problem("domain", fmt::format("{} is not a DNS domain (letters, digits, '-' and "
                                           "'.', at most 253 characters, labels of 1 to 63)",
                                           clipped(nlohmann::json(c.domain).dump(), 80)));
    c.lease_s = data.integer_or("lease_s", 3600, 120, 31536000);
}

void load_server(PxeConfig& c, const ConfigNode& root) {
    ConfigNode server = root.object("server");
    server.allow_only(kServerKeys);
    c.interface = server.string("interface");
    if (c.interface.size() > 15 || c.interface.find_first_of("/ \t\n,=") != std::string::npos)
        server.problem("interface",
                       fmt::format("\"{}\" is not a network interface name", c.interface));
    c.server = address(server, "address");
    if (root.ok("data.subnet"))
        require_host(server, "address", c.server, c.data_subnet, "data.subnet");
    if (root.ok("data.pool") && c.pool.contains(c.server))
        server.problem("address", fmt::format("{} is inside data.pool {}", ipv4_string(c.server),
                                              c.pool.str()));
    c.http_port = server.integer_or("http_port", 80, 1, 65535);
    c.serve_dns = server.boolean_or("dns", false);
    c.hook = abs_path(server, "hook", STORKIT_SBINDIR "/pxe-report");
    c.cgi_user = server.string_or("user", kDefaultCgiUser);
    bool user_ok =
        !c.cgi_user.empty() && c.cgi_user.size() <= 32 && c.cgi_user != "root" &&
        c.cgi_user[0] != '-' && std::all_of(c.cgi_user.begin(), c.cgi_user.end(), [](char ch) {
            return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
        });
    if (!user_ok)
        server.problem("user", fmt::format("\"{}\" is not a user name other than root "
                                           "(lower-case letters, digits, _ and -)",
                                           c.cgi_user.substr(0, 40)));
}

// The versions the repository holds, for the message when the configured one is missing.
std::string available_versions(const std::string& repository) {
    std::vector<std::string> have;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(repository, ec))
        if (e.path().extension() == ".iso") have.push_back(e.path().stem().string());
    std::sort(have.begin(), have.end());
    return have.empty() ? "none" : fmt::format("{}", fmt::join(have, ", "));
}

void load_iso(PxeConfig& c, const ConfigNode& root) {
    ConfigNode iso = root.object("iso");
    iso.allow_only(kIsoKeys);
    c.iso_repository = abs_path(iso, "repository", "");
    c.iso_version = iso.string("version");
    bool ok = c.iso_version[0] != '.' &&
              std::all_of(c.iso_version.begin(), c.iso_version.end(), [](char ch) {
                  return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' ||
                         ch == '-' || ch == '+';
              });
    if (!ok)
        iso.problem(
            "version",
            fmt::format("\"{}\" is not a version name (letters, digits, . _ - +)", c.iso_version));
    c.iso_path = c.iso_repository + "/" + c.iso_version + ".iso";
    struct stat st {};
    if (iso.ok("repository") && iso.ok("version") &&
        (::stat(c.iso_path.c_str(), &st) < 0 || !S_ISREG(st.st_mode)))
        iso.problem("version", fmt::format("no image {} in the repository (available: {})",
                                           c.iso_path, available_versions(c.iso_repository)));
    if (iso.has("kernel") != iso.has("initrd"))
        iso.problem(iso.has("kernel") ? "initrd" : "kernel",
                    "give iso.kernel and iso.initrd together");
    if (iso.has("kernel")) {
        c.iso_kernel = image_path(iso, "kernel");
        c.iso_initrd = image_path(iso, "initrd");
    }
}

void load_paths(PxeConfig& c, const ConfigNode& root) {
    ConfigNode paths = root.section("paths");
    paths.allow_only(kPathsKeys);
    c.tftp_root = abs_path(paths, "tftp_root", "/srv/storkit/tftp");
    c.http_root = abs_path(paths, "http_root", "/srv/storkit/www");
    c.dnsmasq_conf = abs_path(paths, "dnsmasq_conf", "/etc/storkit/pxe-dnsmasq.conf");
    c.lighttpd_conf = abs_path(paths, "lighttpd_conf", "/etc/storkit/pxe-lighttpd.conf");
    c.state_dir = abs_path(paths, "state_dir", "/var/lib/storkit");
    c.hosts_dir = abs_path(paths, "dhcp_hostsdir", c.state_dir + "/pxe/dhcp-hosts");
    bool roots_ok = paths.ok("tftp_root") && paths.ok("http_root");
    if (roots_ok && (inside(c.tftp_root, c.http_root) || inside(c.http_root, c.tftp_root)))
        paths.problem("http_root", "must not be paths.tftp_root or contain it, or be inside it");
    // Anything inside a served root is readable by every node on the data network.
    const std::pair<const char*, const std::string*> written[] = {
        {"dnsmasq_conf", &c.dnsmasq_conf},
        {"lighttpd_conf", &c.lighttpd_conf},
        {"state_dir", &c.state_dir},
        {"dhcp_hostsdir", &c.hosts_dir}};
    for (const auto& [key, p] : written)
        for (const std::string* served : {&c.tftp_root, &c.http_root})
            if (roots_ok && paths.ok(key) && (inside(*p, *served) || inside(*served, *p)))
                paths.problem(
                    key, fmt::format("{} must not be inside (or contain) the served root {}", *p,
                                     *served));
}

// install.vars and install.report; the template is read once every variable is known
// (load_templates).
void load_install(PxeConfig& c, const ConfigNode& root) {
    ConfigNode install = root.object("install");
    install.allow_only(kInstallKeys);
    ConfigNode vars = install.section("vars");
    for (const std::string& k : vars.keys()) {
        size_t i = declare_var(c, vars, k);
        std::string value = vars.string(k);
        if (vars.ok(k)) refuse_inline_secret(vars, k, value);
        if (i != kNoVar) c.var_defaults[i - kBuiltinVarCount] = std::move(value);
    }
    // Secrets for the template (a root password hash, SSH keys): each variable's value is the
    // content of a file only root can read, never text in this file.
    ConfigNode secrets = install.section("secret_files");
    for (const std::string& k : secrets.keys()) {
        size_t i = declare_var(c, secrets, k);
        std::string path = abs_path(secrets, k, "");
        if (i == kNoVar || !secrets.ok(k)) continue;
        try {
            c.var_defaults[i - kBuiltinVarCount] = read_root_only_file(path, "secret file");
        } catch (const ConfigError& e) {
            secrets.problem(k, std::string(e.what()));
            c.var_defaults[i - kBuiltinVarCount] = "";  // reported once, not as missing too
        }
    }
    std::string report = install.string_or("report", "kickstart");
    if (report == "kickstart")
        c.report_snippets = ReportSnippets::kKickstart;
    else if (report == "preseed")
        c.report_snippets = ReportSnippets::kPreseed;
    else if (report == "none")
        c.report_snippets = ReportSnippets::kNone;
    else
        install.problem("report",
                        fmt::format("\"{}\": expected kickstart, preseed or none", report));
    c.template_path = abs_path(install, "template", "");
}

void load_boot(PxeConfig& c, const ConfigNode& root) {
    ConfigNode boot = root.section("boot");
    boot.allow_only(kBootKeys);
    std::string fw = boot.string_or("firmware", "auto");
    if (fw == "auto")
        c.firmware = Firmware::kAuto;
    else if (fw == "bios")
        c.firmware = Firmware::kBios;
    else if (fw == "uefi")
        c.firmware = Firmware::kUefi;
    else
        boot.problem("firmware", fmt::format("\"{}\": expected auto, bios or uefi", fw));
    if (c.parts == PxeConfigParts::kPower) return;  // the firmware: power.boot_mode's default
    std::string loader = boot.string_or("loader", "ipxe");
    if (loader == "ipxe")
        c.loader = Loader::kIpxe;
    else if (loader == "native")
        c.loader = Loader::kNative;
    else
        boot.problem("loader", fmt::format("\"{}\": expected ipxe or native", loader));
    // boot.kernel_args is compiled with the templates (load_templates).
    if (!boot.has("kernel_args") && !c.iso_kernel.empty())
        boot.problem("kernel_args",
                     "required with iso.kernel: the installer's arguments are unknown");
}

void load_power(PxeConfig& c, const ConfigNode& root) {
    ConfigNode power = root.section("power");
    power.allow_only(kPowerKeys);
    c.power_wave = power.integer_or("wave", 1, 1, 1024);
    c.power_interval_ms = seconds_to_ms(power.positive_or("interval_s", 10, 3600)).count();
    c.bind_timeout_ms = seconds_to_ms(power.positive_or("bind_timeout_s", 300, 86400)).count();
    std::string mode = power.string_or("boot_mode", c.firmware == Firmware::kUefi ? "efi" : "bios");
    if (mode != "bios" && mode != "efi")
        power.problem("boot_mode", fmt::format("\"{}\": expected bios or efi", mode));
    c.boot_efi = mode == "efi";
}

// Deadlines are bounded: a day at most (an install that takes longer is not being watched).
void load_monitor(PxeConfig& c, const ConfigNode& root) {
    ConfigNode m = root.section("monitor");
    m.allow_only(kMonitorKeys);
    auto seconds = [&m](const char* key, double fallback) {
        return m.positive_or(key, fallback, 86400);
    };
    c.monitor.dhcp_s = seconds("dhcp_s", 300);
    c.monitor.kickstart_s = seconds("kickstart_s", 300);
    c.monitor.heartbeat_s = seconds("heartbeat_s", 600);
    c.monitor.install_s = seconds("install_s", 1200);
    c.monitor.retries = static_cast<int>(m.integer_or("retries", 0, 0, 10));
    c.monitor_feedback = abs_path(m, "feedback", c.pxe_state() + "/feedback.jsonl");
    if (m.has("notify")) c.monitor_notify = m.argv("notify");
}

}  // namespace

std::span<const ConfigSection> pxe_config_sections() {
    return kSections;
}

PxeConfig load_pxe_config(const std::string& path, PxeConfigParts parts) {
    ConfigFile file = ConfigFile::load(path);
    // The file names the hook dnsmasq runs as root: only root may be able to change it.
    require_root_only_writable(path, "config");
    // Every problem of the file is collected and reported at once, at the checkpoint.
    ConfigErrors errors;
    ConfigNode root = file.root(errors);
    root.allow_only(kRootKeys);
    PxeConfig c;
    c.parts = parts;
    bool all = parts == PxeConfigParts::kAll;
    std::error_code ec;
    c.path = std::filesystem::absolute(path, ec).lexically_normal().string();
    if (ec) c.path = path;
    c.var_names = builtin_template_vars();
    load_bmc(c, root);
    if (all) {
        load_data(c, root);
        load_server(c, root);
        load_iso(c, root);
    }
    load_paths(c, root);
    if (all) load_install(c, root);
    load_boot(c, root);
    load_power(c, root);
    if (all) load_monitor(c, root);
    load_groups(c, root, kGroupKeys);
    load_nodes(c, root, kNodeKeys);
    // The templates last: they may use any variable of install.vars, a group or a node.
    if (all) load_templates(c, root);
    errors.checkpoint();
    return c;
}

}  // namespace storkit
