#include "pxe/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <unordered_map>

#include "bmc/ipmi.h"
#include "core/config_file.h"
#include "core/error.h"
#include "core/statefile.h"
#include "core/trust.h"

namespace storkit {

const std::vector<std::string>& builtin_template_vars() {
    static const std::vector<std::string> names = {
        "name",    "hostname",   "fqdn",       "domain",     "ip",      "netmask",     "prefix",
        "gateway", "dns",        "mac",        "bmc",        "server",  "http_url",    "repo_url",
        "ks_url",  "report_url", "kernel_url", "initrd_url", "version", "image_sha256"};
    return names;
}

namespace {

Ipv4 address(const ConfigNode& n, const std::string& key) {
    std::string text = n.string(key);
    std::optional<Ipv4> a = parse_ipv4(text);
    if (!a) n.fail(key, fmt::format("\"{}\" is not an IPv4 address", text));
    return *a;
}

Subnet subnet(const ConfigNode& n, const std::string& key) {
    std::string text = n.string(key), why;
    std::optional<Subnet> s = parse_subnet(text, &why);
    if (!s) n.fail(key, fmt::format("\"{}\": {}", text, why));
    return *s;
}

std::string abs_path(const ConfigNode& n, const std::string& key, const std::string& fallback) {
    std::string p = n.string_or(key, fallback);
    if (p[0] != '/') n.fail(key, fmt::format("expected an absolute path, got \"{}\"", p));
    // The path goes into generated dnsmasq and lighttpd configs.
    for (char ch : p)
        if (static_cast<unsigned char>(ch) < 0x20 || ch == '"' || ch == '\\' || ch == ',')
            n.fail(key, "a path here must not hold control characters, quotes, \\ or commas");
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    return p;
}

bool inside(const std::string& path, const std::string& dir) {
    return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                           (dir == "/" || path[dir.size()] == '/'));
}

// A path inside the image: relative, no "." or ".." components.
std::string image_path(const ConfigNode& n, const std::string& key) {
    std::string p = n.string(key);
    bool ok = p[0] != '/';
    for (const auto& part : std::filesystem::path(p)) ok = ok && part != ".." && part != ".";
    if (!ok) n.fail(key, fmt::format("expected a relative path inside the image, got \"{}\"", p));
    return p;
}

// Requires `addr` to be a usable host address of `s` (not its network or broadcast address).
void require_host(const ConfigNode& n, const std::string& key, Ipv4 addr, const Subnet& s,
                  const std::string& subnet_key) {
    if (!s.contains(addr))
        n.fail(key, fmt::format("{} is outside {} {}", ipv4_string(addr), subnet_key, s.str()));
    if (s.is_reserved(addr))
        n.fail(key, fmt::format("{} is the network or broadcast address of {}", ipv4_string(addr),
                                s.str()));
}

void load_data(PxeConfig& c, const ConfigNode& root) {
    ConfigNode bmc = root.object("bmc");
    bmc.allow_only({"subnet", "user", "password_file", "cipher_suite", "timeout_ms", "retries"});
    c.bmc_subnet = subnet(bmc, "subnet");
    c.bmc_user = bmc.string("user");
    c.bmc_password_file = abs_path(bmc, "password_file", "");
    c.bmc_cipher_suite = static_cast<int>(bmc.integer_or("cipher_suite", 3, 0, 17));
    if (!valid_cipher_suite(c.bmc_cipher_suite))
        bmc.fail("cipher_suite", fmt::format("{} is not a cipher suite FreeIPMI supports "
                                             "(0-3, 6-8, 11, 12, 15-17)",
                                             c.bmc_cipher_suite));
    c.bmc_timeout_ms = bmc.integer_or("timeout_ms", 5000, 100, 600000);
    c.bmc_retries = static_cast<int>(bmc.integer_or("retries", 1, 0, 10));

    ConfigNode data = root.object("data");
    data.allow_only({"subnet", "pool", "gateway", "dns", "domain", "lease_s"});
    c.data_subnet = subnet(data, "subnet");
    if (c.data_subnet.overlaps(c.bmc_subnet))
        data.fail("subnet", fmt::format("{} overlaps bmc.subnet {}", c.data_subnet.str(),
                                        c.bmc_subnet.str()));
    std::string why, pool_text = data.string("pool");
    std::optional<AddressRange> pool = parse_range(pool_text, &why);
    if (!pool) data.fail("pool", fmt::format("\"{}\": {}", pool_text, why));
    c.pool = *pool;
    if (!c.data_subnet.contains(c.pool.first) || !c.data_subnet.contains(c.pool.last))
        data.fail("pool",
                  fmt::format("{} is outside data.subnet {}", c.pool.str(), c.data_subnet.str()));
    if (c.pool.contains(c.data_subnet.network) || c.pool.contains(c.data_subnet.broadcast()))
        data.fail("pool", fmt::format("{} includes the network or broadcast address of {}",
                                      c.pool.str(), c.data_subnet.str()));
    if (data.has("gateway")) {
        c.gateway = address(data, "gateway");
        require_host(data, "gateway", *c.gateway, c.data_subnet, "data.subnet");
        if (c.pool.contains(*c.gateway))
            data.fail("gateway", fmt::format("{} is inside data.pool {}", ipv4_string(*c.gateway),
                                             c.pool.str()));
    }
    for (const std::string& d : data.strings_or("dns", {})) {
        std::optional<Ipv4> a = parse_ipv4(d);
        if (!a) data.fail("dns", fmt::format("\"{}\" is not an IPv4 address", d));
        c.dns.push_back(*a);
    }
    c.domain = data.string_or("domain", "");
    bool domain_ok = std::all_of(c.domain.begin(), c.domain.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
    });
    if (!domain_ok) data.fail("domain", fmt::format("\"{}\" is not a DNS domain", c.domain));
    c.lease_s = data.integer_or("lease_s", 3600, 120, 31536000);

    ConfigNode server = root.object("server");
    server.allow_only({"interface", "address", "http_port", "dns", "hook"});
    c.interface = server.string("interface");
    if (c.interface.size() > 15 || c.interface.find_first_of("/ \t\n,=") != std::string::npos)
        server.fail("interface",
                    fmt::format("\"{}\" is not a network interface name", c.interface));
    c.server = address(server, "address");
    require_host(server, "address", c.server, c.data_subnet, "data.subnet");
    if (c.pool.contains(c.server))
        server.fail("address",
                    fmt::format("{} is inside data.pool {}", ipv4_string(c.server), c.pool.str()));
    c.http_port = server.integer_or("http_port", 80, 1, 65535);
    c.serve_dns = server.boolean_or("dns", false);
    c.hook = abs_path(server, "hook", "/usr/bin/pxe-report");
}

void load_iso(PxeConfig& c, const ConfigNode& root) {
    ConfigNode iso = root.object("iso");
    iso.allow_only({"repository", "version", "kernel", "initrd"});
    c.iso_repository = abs_path(iso, "repository", "");
    c.iso_version = iso.string("version");
    bool ok = c.iso_version[0] != '.' &&
              std::all_of(c.iso_version.begin(), c.iso_version.end(), [](char ch) {
                  return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' ||
                         ch == '-' || ch == '+';
              });
    if (!ok)
        iso.fail("version", fmt::format("\"{}\" is not a version name (letters, digits, . _ - +)",
                                        c.iso_version));
    c.iso_path = c.iso_repository + "/" + c.iso_version + ".iso";
    struct stat st {};
    if (::stat(c.iso_path.c_str(), &st) < 0 || !S_ISREG(st.st_mode)) {
        std::vector<std::string> have;
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(c.iso_repository, ec))
            if (e.path().extension() == ".iso") have.push_back(e.path().stem().string());
        std::sort(have.begin(), have.end());
        std::string list;
        for (const std::string& h : have) list += (list.empty() ? "" : ", ") + h;
        iso.fail("version", fmt::format("no image {} in the repository (available: {})", c.iso_path,
                                        list.empty() ? "none" : list));
    }
    if (iso.has("kernel") != iso.has("initrd"))
        iso.fail(iso.has("kernel") ? "initrd" : "kernel",
                 "give iso.kernel and iso.initrd together");
    if (iso.has("kernel")) {
        c.iso_kernel = image_path(iso, "kernel");
        c.iso_initrd = image_path(iso, "initrd");
    }
}

void load_paths(PxeConfig& c, const ConfigNode& root) {
    ConfigNode paths = root.section("paths");
    paths.allow_only(
        {"tftp_root", "http_root", "dnsmasq_conf", "lighttpd_conf", "state_dir", "dhcp_hostsdir"});
    c.tftp_root = abs_path(paths, "tftp_root", "/srv/storkit/tftp");
    c.http_root = abs_path(paths, "http_root", "/srv/storkit/www");
    c.dnsmasq_conf = abs_path(paths, "dnsmasq_conf", "/etc/storkit/pxe-dnsmasq.conf");
    c.lighttpd_conf = abs_path(paths, "lighttpd_conf", "/etc/storkit/pxe-lighttpd.conf");
    c.state_dir = abs_path(paths, "state_dir", "/var/lib/storkit");
    c.hosts_dir = abs_path(paths, "dhcp_hostsdir", c.state_dir + "/pxe/dhcp-hosts");
    if (inside(c.tftp_root, c.http_root) || inside(c.http_root, c.tftp_root))
        paths.fail("http_root", "must not be paths.tftp_root or contain it, or be inside it");
    // Anything inside a served root is readable by every node on the data network.
    for (const char* key : {"dnsmasq_conf", "lighttpd_conf", "state_dir", "dhcp_hostsdir"}) {
        std::string p = key == std::string("dnsmasq_conf")    ? c.dnsmasq_conf
                        : key == std::string("lighttpd_conf") ? c.lighttpd_conf
                        : key == std::string("state_dir")     ? c.state_dir
                                                              : c.hosts_dir;
        for (const std::string* served : {&c.tftp_root, &c.http_root})
            if (inside(p, *served) || inside(*served, p))
                paths.fail(key, fmt::format("{} must not be inside (or contain) the served root {}",
                                            p, *served));
    }
}

void load_boot_and_install(PxeConfig& c, const ConfigNode& root) {
    c.var_names = builtin_template_vars();
    ConfigNode install = root.object("install");
    install.allow_only({"template", "vars"});
    ConfigNode vars = install.section("vars");
    for (const std::string& k : vars.keys()) {
        bool name_ok = !k.empty() && std::all_of(k.begin(), k.end(), [](char ch) {
            return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
        });
        if (!name_ok) vars.fail(k, "a variable name is letters, digits and _");
        if (std::find(c.var_names.begin(), c.var_names.end(), k) != c.var_names.end())
            vars.fail(k, "is a built-in variable; choose another name");
        c.var_names.push_back(k);
        c.var_values.push_back(vars.string(k));
    }
    c.template_path = abs_path(install, "template", "");
    // What the template renders runs as root on every node it installs.
    if (::access(c.template_path.c_str(), F_OK) == 0)
        require_root_only_writable(c.template_path, "install template");
    std::optional<std::string> text;
    try {
        text = read_file(c.template_path);
    } catch (const Error& e) {
        install.fail("template", e.what());
    }
    if (!text) install.fail("template", fmt::format("{}: no such file", c.template_path));
    try {
        c.install_template = TextTemplate::compile(*text, c.var_names, c.template_path);
    } catch (const ConfigError& e) {
        install.fail("template", e.what());
    }

    ConfigNode boot = root.section("boot");
    boot.allow_only({"firmware", "loader", "kernel_args"});
    std::string fw = boot.string_or("firmware", "auto");
    if (fw == "auto")
        c.firmware = Firmware::kAuto;
    else if (fw == "bios")
        c.firmware = Firmware::kBios;
    else if (fw == "uefi")
        c.firmware = Firmware::kUefi;
    else
        boot.fail("firmware", fmt::format("\"{}\": expected auto, bios or uefi", fw));
    std::string loader = boot.string_or("loader", "ipxe");
    if (loader == "ipxe")
        c.loader = Loader::kIpxe;
    else if (loader == "native")
        c.loader = Loader::kNative;
    else
        boot.fail("loader", fmt::format("\"{}\": expected ipxe or native", loader));
    if (boot.has("kernel_args")) {
        std::string args = boot.string("kernel_args");
        if (args.find('\n') != std::string::npos) boot.fail("kernel_args", "must be one line");
        try {
            c.kernel_args = TextTemplate::compile(args, c.var_names, "boot.kernel_args");
        } catch (const ConfigError& e) {
            boot.fail("kernel_args", e.what());
        }
        // The arguments end up on one line of every loader config.
        for (size_t i = 0; i < c.var_values.size(); ++i)
            if (c.kernel_args->uses(kBuiltinVarCount + i) &&
                c.var_values[i].find_first_of("\r\n") != std::string::npos)
                boot.fail("kernel_args",
                          fmt::format("uses install.vars.{}, which holds a line break",
                                      c.var_names[kBuiltinVarCount + i]));
    } else if (!c.iso_kernel.empty()) {
        boot.fail("kernel_args", "required with iso.kernel: the installer's arguments are unknown");
    }
}

void load_power(PxeConfig& c, const ConfigNode& root) {
    ConfigNode power = root.section("power");
    power.allow_only({"wave", "interval_s", "bind_timeout_s", "boot_mode"});
    c.power_wave = power.integer_or("wave", 1, 1, 1024);
    c.power_interval_ms = seconds_to_ms(power.positive_or("interval_s", 10)).count();
    c.bind_timeout_ms = seconds_to_ms(power.positive_or("bind_timeout_s", 300)).count();
    std::string mode = power.string_or("boot_mode", c.firmware == Firmware::kUefi ? "efi" : "bios");
    if (mode != "bios" && mode != "efi")
        power.fail("boot_mode", fmt::format("\"{}\": expected bios or efi", mode));
    c.boot_efi = mode == "efi";
}

// Explicit node values must be unique: two nodes with one MAC, IP or BMC would fight over it.
// `seen` maps a value (an address, or a MAC as a number) to the index of the node that has it;
// `mac` is the MAC's text, empty for an address.
void check_unique(const ConfigNode& n, const PxeConfig& c, const std::string& key, uint64_t value,
                  std::string_view mac, std::unordered_map<uint64_t, size_t>& seen) {
    auto [it, fresh] = seen.emplace(value, c.nodes->size());
    if (fresh) return;
    std::string text = mac.empty() ? ipv4_string(static_cast<Ipv4>(value)) : std::string(mac);
    n.fail(key,
           fmt::format("{} is also the {} of node {}", text, key, (*c.nodes)[it->second].name));
}

uint64_t mac_number(const std::string& mac) {
    uint64_t v = 0;
    for (char ch : mac)
        if (ch != ':') v = v << 4 | static_cast<uint64_t>(ch <= '9' ? ch - '0' : ch - 'a' + 10);
    return v;
}

void load_nodes(PxeConfig& c, const ConfigNode& root) {
    if (!root.has("nodes")) return;
    ConfigNode nodes = root.object("nodes");
    std::vector<std::string> names = nodes.keys();  // sorted
    std::unordered_map<uint64_t, size_t> macs, ips, bmcs;
    macs.reserve(names.size());
    ips.reserve(names.size());
    bmcs.reserve(names.size());
    c.nodes.emplace();
    c.nodes->reserve(names.size());
    for (const std::string& name : names) {
        ConfigNode n = nodes.object(name);
        if (!valid_node_name(name))
            nodes.fail(name, "a node name is a DNS label: a-z, 0-9 and -, at most 63 characters");
        n.allow_only({"bmc", "mac", "ip"});
        NodeEntry spec;
        spec.name = name;
        if (n.has("bmc")) {
            spec.bmc = address(n, "bmc");
            require_host(n, "bmc", *spec.bmc, c.bmc_subnet, "bmc.subnet");
            check_unique(n, c, "bmc", *spec.bmc, "", bmcs);
        }
        if (n.has("mac")) {
            std::string text = n.string("mac");
            std::optional<std::string> mac = normalize_mac(text);
            if (!mac) n.fail("mac", fmt::format("\"{}\" is not a MAC address", text));
            spec.mac = *mac;
            check_unique(n, c, "mac", mac_number(spec.mac), spec.mac, macs);
        }
        if (n.has("ip")) {
            spec.ip = address(n, "ip");
            require_host(n, "ip", *spec.ip, c.data_subnet, "data.subnet");
            if (*spec.ip == c.server || (c.gateway && *spec.ip == *c.gateway))
                n.fail("ip", fmt::format("{} is the server's address or the gateway",
                                         ipv4_string(*spec.ip)));
            check_unique(n, c, "ip", *spec.ip, "", ips);
        }
        c.nodes->push_back(std::move(spec));
    }
}

}  // namespace

PxeConfig load_pxe_config(const std::string& path) {
    ConfigFile file = ConfigFile::load(path);
    // The file names the hook dnsmasq runs as root: only root may be able to change it.
    require_root_only_writable(path, "config");
    ConfigNode root = file.root();
    root.allow_only({"bmc", "data", "server", "iso", "paths", "boot", "install", "power", "nodes"});
    PxeConfig c;
    std::error_code ec;
    c.path = std::filesystem::absolute(path, ec).lexically_normal().string();
    if (ec) c.path = path;
    load_data(c, root);
    load_iso(c, root);
    load_paths(c, root);
    load_boot_and_install(c, root);
    load_power(c, root);
    load_nodes(c, root);
    return c;
}

}  // namespace storkit
