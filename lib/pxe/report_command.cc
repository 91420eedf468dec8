#include "pxe/report_command.h"

#include <fmt/chrono.h>
#include <time.h>

#include <cstdlib>
#include <iostream>

#include "core/error.h"
#include "core/log.h"
#include "core/netaddr.h"
#include "pxe/install_book.h"
#include "pxe/node_table.h"
#include "pxe/state.h"

namespace storkit {

namespace {

using nlohmann::json;

constexpr size_t kMaxBody = 8192;

std::string cgi_env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

// A time in UTC; "-" for none, and for one beyond the calendar (a damaged state file).
std::string utc(const json& t) {
    if (!t.is_number()) return "-";
    try {
        return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}",
                           fmt::gmtime(static_cast<time_t>(t.get<double>())));
    } catch (const fmt::format_error&) {
        return "-";
    }
}

std::string cell(const json& v) {
    return v.is_string() ? v.get<std::string>() : "-";
}

std::string lease_table_text(const json& table) {
    auto row = [](const std::string& a, const std::string& b, const std::string& c,
                  const std::string& d, const std::string& e, const std::string& f) {
        return fmt::format("{:<12} {:<15} {:<17} {:<15} {:<20} {}\n", a, b, c, d, e, f);
    };
    std::string out = row("NODE", "BMC", "MAC", "DHCP-IP", "LEASED", "PHASE");
    for (const json& n : table["nodes"])
        out += row(cell(n["name"]), cell(n["bmc"]), cell(n["mac"]), cell(n["ip"]),
                   utc(n.value("first_seen", json())), cell(n.value("phase", json())));
    for (const json& l : table["unbound"])
        out += row("-", "-", cell(l["mac"]), cell(l["ip"]), utc(l["first_seen"]), cell(l["phase"]));
    if (std::string refused = refused_summary(table); !refused.empty()) out += refused + "\n";
    return out;
}

// The CGI answer goes to the web server whatever the options, and also when the run then fails
// (500): the runner prints report.response in every case.
void respond(Report& report, int status, const std::string& reason, const std::string& body) {
    report.response =
        fmt::format("Status: {} {}\r\nContent-Type: text/plain\r\n\r\n{}\n", status, reason, body);
}

// The request's form fields: the query string, and for a POST the body as well.
std::map<std::string, std::string> cgi_fields() {
    std::map<std::string, std::string> fields = parse_form(cgi_env("QUERY_STRING"));
    if (cgi_env("REQUEST_METHOD") != "POST") return fields;
    long length = std::strtol(cgi_env("CONTENT_LENGTH").c_str(), nullptr, 10);
    if (length < 0 || static_cast<size_t>(length) > kMaxBody)
        throw ConfigError(fmt::format("request body larger than {} bytes", kMaxBody));
    std::string body(static_cast<size_t>(length), '\0');
    std::cin.read(body.data(), length);
    body.resize(static_cast<size_t>(std::cin.gcount()));
    for (auto& [k, v] : parse_form(body)) fields[k] = v;
    return fields;
}

// A request refused: the answer, a warning in the server's error log, and a "refused" event in
// the log, which the table counts (pxe-provision status shows them).
void refuse(const PxeState& state, Report& report, int status, const std::string& remote,
            const std::string& why) {
    log::warn("report from {}: refused: {}", remote, why);
    respond(report, status, status == 403 ? "Forbidden" : "Bad Request", "refused: " + why);
    report.msg = "refused: " + why;
    PxeEvent e;
    e.time = now_seconds();
    e.kind = "refused";
    e.ip = parse_ipv4(remote) ? remote : "";
    e.detail = why.substr(0, 200);
    FileLock lock = state.lock();
    state.append(e);
    state.save(state.leases(), e.time);
}

// The hand-off, under the state's lock: the node's loader configs boot the local disk, and the
// book says it is installed. Returns what could not be rewritten (empty: done).
std::vector<std::string> finish_install(const PxeState& state, InstallBook& book,
                                        const std::string& name, double now) {
    InstallRecord& rec = book.nodes.at(name);
    std::vector<std::string> failed = hand_off_to_local_disk(rec.boot_files, name);
    if (!failed.empty()) return failed;
    rec.state = InstallState::kInstalled;
    rec.installed_at = now;
    book.write(install_book_path(state.dir()), kInstallBookMode, -1);
    log::info("{}: installed; its next boot is from the local disk", name);
    return failed;
}

// Why a request for node `name` with `token` from `remote` is not the node's own; "" when it is.
std::string not_the_node(const InstallRecord* rec, const std::string& name,
                         const std::string& token, const std::string& remote) {
    if (name.empty()) return "no node= field";
    if (!valid_node_name(name)) return "node= is not a node name";
    if (!rec) return fmt::format("no install of node {} is known", name);
    if (!token_matches(token, rec->token)) return fmt::format("wrong token for node {}", name);
    if (remote != rec->ip)
        return fmt::format("node {} reports from its own address {}, not from {}", name, rec->ip,
                           remote);
    return "";
}

// GET /storkit/ks/NODE.cfg (rewritten to ?ks=NODE): the kickstart, to its node's address only,
// and only while the node is to be installed.
void serve_kickstart(const PxeState& state, const std::string& name, const std::string& remote,
                     Report& report) {
    std::string why;
    std::optional<std::string> text;
    {
        FileLock lock = state.lock();
        InstallBook book = InstallBook::read(install_book_path(state.dir()));
        const InstallRecord* rec = valid_node_name(name) ? book.find(name) : nullptr;
        if (!rec)
            why = fmt::format("kickstart of {}: no such node", name.substr(0, 63));
        else if (rec->installed())
            why = fmt::format("kickstart of {}: installed; pxe-provision reinstall serves it again",
                              name);
        else if (remote != rec->ip)
            why = fmt::format("kickstart of {}: only for its address {}, not {}", name, rec->ip,
                              remote);
        else
            text = read_file(state.dir() + "/ks/" + name + ".cfg");
    }
    if (!why.empty()) return refuse(state, report, 403, remote, why);
    if (!text) {
        respond(report, 404, "Not Found", "no kickstart yet: run pxe-provision prepare");
        report.msg = fmt::format("kickstart of {}: none", name);
        return;
    }
    report.response = fmt::format("Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n{}", *text);
    report.msg = fmt::format("kickstart of {} to {}", name, remote);
}

// One CGI request. Client mistakes get a 400 or 403 answer and a warning in the server's error
// log; only failures on this side make the run fail.
void cgi_request(const PxeState& state, Report& report) {
    std::string remote = cgi_env("REMOTE_ADDR");
    PxeEvent e;
    std::map<std::string, std::string> fields;
    try {
        fields = cgi_fields();
        if (auto ks = fields.find("ks"); ks != fields.end())
            return serve_kickstart(state, ks->second, remote, report);
        e = phase_event(fields, remote, now_seconds());
    } catch (const ConfigError& err) {
        return refuse(state, report, 400, remote, err.what());
    }
    std::string name = fields["node"];
    std::vector<std::string> not_handed_off;
    try {
        std::optional<FileLock> lock(state.lock());
        InstallBook book = InstallBook::read(install_book_path(state.dir()));
        const InstallRecord* rec = valid_node_name(name) ? book.find(name) : nullptr;
        std::string why = not_the_node(rec, name, fields["token"], remote);
        if (!why.empty()) {
            lock.reset();
            return refuse(state, report, 403, remote, why);
        }
        e.mac = rec->mac;
        state.append(e);
        state.save(state.leases(), e.time);
        if (e.phase == "finished" && !rec->installed())
            not_handed_off = finish_install(state, book, name, e.time);
    } catch (const Error&) {
        respond(report, 500, "Internal Server Error", "the report could not be recorded");
        throw;
    }
    if (!not_handed_off.empty()) {
        // The node retries; until then a reboot would start its installer again.
        respond(report, 500, "Internal Server Error", "recorded, but not handed off yet");
        throw Error(fmt::format("{}: hand-off to the local disk failed: {}", name,
                                fmt::join(not_handed_off, "; ")));
    }
    respond(report, 200, "OK",
            fmt::format("recorded {} for {}{}", e.phase, name,
                        e.phase == "finished" ? "; its next boot is from the local disk" : ""));
    report.changed = true;
    report.msg = fmt::format("{}: phase {}", name, e.phase);
    report.data["event"] = e.to_json();
}

}  // namespace

void pxe_report_command(const CommonOptions& common, const PxeReportOptions& opts, Report& report) {
    PxeState state(resolve_pxe_state_dir(opts.state_dir, common.config));
    report.data["state_dir"] = state.dir();
    if (opts.event.empty()) {
        if (cgi_env("GATEWAY_INTERFACE").empty())
            throw ConfigError("no event given (see --help); a CGI request has GATEWAY_INTERFACE");
        return cgi_request(state, report);
    }
    const std::string& what = opts.event[0];
    if (what == "table") {
        json table;
        {
            FileLock lock = state.lock();
            table = joined_table(state.nodes(), state.leases(), now_seconds());
        }
        report.data["table"] = table;
        if (!common.json) report.text = lease_table_text(table);  // not built when nobody reads it
        return;
    }
    std::optional<PxeEvent> e;
    if (what == "phase") {
        if (opts.event.size() < 3 || opts.event.size() > 4)
            throw ConfigError("phase: expected MAC PHASE [DETAIL]");
        std::map<std::string, std::string> fields = {{"mac", opts.event[1]},
                                                     {"phase", opts.event[2]}};
        if (opts.event.size() == 4) fields["detail"] = opts.event[3];
        e = phase_event(fields, "", now_seconds());
    } else {
        e = event_from_hook(opts.event, now_seconds());
    }
    if (!e) {
        report.msg = fmt::format("{}: nothing to record", what);
        return;
    }
    report.data["event"] = e->to_json();
    if (common.dry_run) {
        report.msg = fmt::format("would record {}", e->to_json().dump());
        report.line(report.msg);
        return;
    }
    bool tied = record_event(state, *e);
    if (e->kind == "phase" && e->phase == "finished") {
        // Reported on the control machine (by root): the same hand-off as from the node.
        FileLock lock = state.lock();
        InstallBook book = InstallBook::read(install_book_path(state.dir()));
        for (auto& [name, rec] : book.nodes)
            if (rec.mac == e->mac && !rec.installed()) {
                std::vector<std::string> failed = finish_install(state, book, name, e->time);
                if (!failed.empty())
                    throw Error(fmt::format("{}: hand-off to the local disk failed: {}", name,
                                            fmt::join(failed, "; ")));
                report.data["handed_off"] = name;
                break;
            }
    }
    report.changed = true;
    report.data["tied_to_mac"] = tied;
    report.msg = fmt::format("recorded {} {} {}", e->kind, e->action.empty() ? e->phase : e->action,
                             e->mac.empty() ? e->ip : e->mac);
    if (!tied) log::info("{}: no active lease has {}; kept in the log only", e->kind, e->ip);
}

}  // namespace storkit
