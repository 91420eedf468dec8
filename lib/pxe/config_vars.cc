// Template variables of pxe.json (install.vars, groups.NAME.vars, nodes.NAME.vars) and the
// templates that use them (install.template, boot.kernel_args).
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>

#include "core/error.h"
#include "core/secret.h"
#include "core/statefile.h"
#include "core/trust.h"
#include "pxe/config_parts.h"

namespace storkit::pxe_config {

size_t declare_var(PxeConfig& c, const ConfigNode& vars, const std::string& key) {
    bool name_ok = !key.empty() && std::all_of(key.begin(), key.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
    });
    if (!name_ok) vars.problem(key, "a variable name is letters, digits and _");
    auto it = std::find(c.var_names.begin(), c.var_names.end(), key);
    size_t i = static_cast<size_t>(it - c.var_names.begin());
    if (i < kBuiltinVarCount) {
        vars.problem(key, "is a built-in variable; choose another name");
        return kNoVar;
    }
    if (it == c.var_names.end()) {
        c.var_names.push_back(key);
        c.var_defaults.emplace_back();
    }
    return i;
}

void refuse_inline_secret(const ConfigNode& vars, const std::string& key,
                          const std::string& value) {
    // crypt(3) hashes: $1$ (MD5), $2a$/$2b$/$2y$ (bcrypt), $5$, $6$ (SHA-2), $y$ (yescrypt).
    static const char* const kPrefixes[] = {"$1$", "$2a$", "$2b$", "$2y$", "$5$",
                                            "$6$", "$y$",  "$gy$", "$7$"};
    bool hash = std::any_of(std::begin(kPrefixes), std::end(kPrefixes),
                            [&](const char* p) { return value.rfind(p, 0) == 0; });
    bool key_text = value.find("-----BEGIN ") != std::string::npos;
    if (hash || key_text)
        vars.problem(key, fmt::format("looks like a {}: put it in a file only root can read and "
                                      "name that file in install.secret_files",
                                      hash ? "password hash" : "private key"));
}

TemplateValues load_vars(PxeConfig& c, const ConfigNode& owner) {
    TemplateValues out;
    if (!owner.has("vars")) return out;
    ConfigNode vars = owner.object("vars");
    for (const std::string& k : vars.keys()) {
        size_t i = declare_var(c, vars, k);
        std::string value = vars.string(k);
        if (vars.ok(k)) refuse_inline_secret(vars, k, value);
        if (i != kNoVar && vars.ok(k)) out.emplace_back(i, std::move(value));
    }
    std::sort(out.begin(), out.end());
    return out;
}

namespace {

void load_install_template(PxeConfig& c, const ConfigNode& install) {
    if (!install.ok("template")) return;
    // What the template renders runs as root on every node it installs.
    try {
        if (::access(c.template_path.c_str(), F_OK) == 0)
            require_root_only_writable(c.template_path, "install template");
    } catch (const ConfigError& e) {
        return install.problem("template", e);
    }
    std::optional<std::string> text;
    try {
        // A kickstart is a few KiB; a template of more than 1 MiB is a mistake.
        text = read_input_file(c.template_path, 1 << 20);
    } catch (const Error& e) {
        return install.problem("template", e.what());
    }
    if (!text) return install.problem("template", fmt::format("{}: no such file", c.template_path));
    try {
        c.install_template = TextTemplate::compile(*text, c.var_names, c.template_path);
    } catch (const ConfigError& e) {
        install.problem("template", e.what());
    }
}

void load_kernel_args(PxeConfig& c, const ConfigNode& boot) {
    std::string args = boot.string("kernel_args");
    if (!boot.ok("kernel_args")) return;
    if (args.find('\n') != std::string::npos)
        return boot.problem("kernel_args", "must be one line");
    // Linux reads at most 2048 bytes of its command line (x86); the rest would be lost.
    if (args.size() > 2048)
        return boot.problem("kernel_args", fmt::format("{} bytes, more than the 2048 of a kernel "
                                                       "command line",
                                                       args.size()));
    try {
        c.kernel_args = TextTemplate::compile(args, c.var_names, "boot.kernel_args");
    } catch (const ConfigError& e) {
        boot.problem("kernel_args", e.what());
    }
}

bool has_line_break(const std::string& value) {
    return value.find_first_of("\r\n") != std::string::npos;
}

// The arguments end up on one line of every loader config: no value they use may break it.
void check_one_line(const PxeConfig& c, const ConfigNode& root, const ConfigNode& boot) {
    const TextTemplate& args = *c.kernel_args;
    for (size_t i = kBuiltinVarCount; i < c.var_names.size(); ++i) {
        const std::optional<std::string>& d = c.var_defaults[i - kBuiltinVarCount];
        if (args.uses(i) && d && has_line_break(*d))
            boot.problem(
                "kernel_args",
                fmt::format("uses install.vars.{}, which holds a line break", c.var_names[i]));
    }
    auto check = [&](const ConfigNode& owner, const NodeSettings& s) {
        ConfigNode vars = owner.section("vars");
        for (const auto& [i, value] : s.vars)
            if (args.uses(i) && has_line_break(value))
                vars.problem(c.var_names[i], "holds a line break, and boot.kernel_args uses it");
    };
    for (const NodeGroup& g : c.groups) check(root.object("groups").object(g.name), g.settings);
    if (c.nodes)
        for (const NodeEntry& n : *c.nodes) check(root.object("nodes").object(n.name), n.settings);
}

bool sets(const TemplateValues& vars, size_t i) {
    return std::any_of(vars.begin(), vars.end(), [i](const auto& v) { return v.first == i; });
}

// Every variable a template uses needs a value for every node: from the node, its group or
// install.vars. A node of the node table has only install.vars.
void check_values(const PxeConfig& c, const ConfigNode& root, const std::vector<size_t>& used,
                  const std::vector<std::string>& users) {
    for (size_t u = 0; u < used.size(); ++u) {
        size_t i = used[u];
        const std::string& name = c.var_names[i];
        if (c.var_defaults[i - kBuiltinVarCount]) continue;
        if (!c.nodes) {
            root.object("install").problem(
                "vars", fmt::format("{} {{{{{}}}}}, which only groups or nodes set: the "
                                    "nodes of the node table (the config names none) need it here",
                                    users[u], name));
            continue;
        }
        ConfigNode nodes = root.object("nodes");
        for (const NodeEntry& n : *c.nodes) {
            const NodeGroup* g = c.group(n.group);
            if (sets(n.settings.vars, i) || (g && sets(g->settings.vars, i))) continue;
            nodes.object(n.name).section("vars").problem(
                name, fmt::format("missing: {} {{{{{}}}}}; set it here, in {} or in "
                                  "install.vars",
                                  users[u], name,
                                  g ? fmt::format("groups.{}.vars", g->name)
                                    : std::string("the vars of a group")));
        }
    }
}

}  // namespace

void load_templates(PxeConfig& c, const ConfigNode& root) {
    ConfigNode install = root.object("install");
    load_install_template(c, install);
    ConfigNode boot = root.section("boot");
    if (boot.has("kernel_args")) load_kernel_args(c, boot);
    if (c.kernel_args) check_one_line(c, root, boot);
    // The variables beyond the builtins that the templates that compiled use, and which.
    bool with_template = install.ok("template");
    std::vector<size_t> used;
    std::vector<std::string> users;
    for (size_t i = kBuiltinVarCount; i < c.var_names.size(); ++i) {
        bool in_template = with_template && c.install_template.uses(i);
        bool in_args = c.kernel_args && c.kernel_args->uses(i);
        if (!in_template && !in_args) continue;
        used.push_back(i);
        users.push_back(in_template && in_args ? "the install template and boot.kernel_args use"
                        : in_template          ? "the install template uses"
                                               : "boot.kernel_args uses");
    }
    check_values(c, root, used, users);
}

}  // namespace storkit::pxe_config
