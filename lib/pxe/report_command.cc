#include "pxe/report_command.h"

#include <fmt/chrono.h>
#include <time.h>

#include <cstdlib>
#include <iostream>

#include "core/error.h"
#include "core/log.h"
#include "pxe/state.h"

namespace storkit {

namespace {

using nlohmann::json;

constexpr size_t kMaxBody = 8192;

std::string env(const char* name) {
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

std::string text(const json& v) {
    return v.is_string() ? v.get<std::string>() : "-";
}

std::string table_text(const json& table) {
    auto row = [](const std::string& a, const std::string& b, const std::string& c,
                  const std::string& d, const std::string& e, const std::string& f) {
        return fmt::format("{:<12} {:<15} {:<17} {:<15} {:<20} {}\n", a, b, c, d, e, f);
    };
    std::string out = row("NODE", "BMC", "MAC", "DHCP-IP", "LEASED", "PHASE");
    for (const json& n : table["nodes"])
        out += row(text(n["name"]), text(n["bmc"]), text(n["mac"]), text(n["ip"]),
                   utc(n.value("first_seen", json())), text(n.value("phase", json())));
    for (const json& l : table["unbound"])
        out += row("-", "-", text(l["mac"]), text(l["ip"]), utc(l["first_seen"]), text(l["phase"]));
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
    std::map<std::string, std::string> fields = parse_form(env("QUERY_STRING"));
    if (env("REQUEST_METHOD") != "POST") return fields;
    long length = std::strtol(env("CONTENT_LENGTH").c_str(), nullptr, 10);
    if (length < 0 || static_cast<size_t>(length) > kMaxBody)
        throw ConfigError(fmt::format("request body larger than {} bytes", kMaxBody));
    std::string body(static_cast<size_t>(length), '\0');
    std::cin.read(body.data(), length);
    body.resize(static_cast<size_t>(std::cin.gcount()));
    for (auto& [k, v] : parse_form(body)) fields[k] = v;
    return fields;
}

// One CGI request. Client mistakes get a 400 answer and a warning in the server's error log;
// only failures on this side make the run fail.
void cgi_request(const PxeState& state, Report& report) {
    std::string remote = env("REMOTE_ADDR");
    PxeEvent e;
    try {
        e = phase_event(cgi_fields(), remote, now_seconds());
    } catch (const ConfigError& err) {
        log::warn("report from {}: {}", remote, err.what());
        respond(report, 400, "Bad Request", err.what());
        report.msg = err.what();
        return;
    }
    try {
        FileLock lock = state.lock();
        if (e.mac.empty()) {
            std::optional<std::string> mac = state.leases().mac_of_ip(e.ip);
            if (!mac) {
                std::string why = fmt::format("no DHCP lease for {}; send mac=", remote);
                log::warn("report from {}: {}", remote, why);
                respond(report, 400, "Bad Request", why);
                report.msg = why;
                return;
            }
            e.mac = *mac;
        }
        state.append(e);
        state.save(state.leases(), e.time);
    } catch (const Error&) {
        respond(report, 500, "Internal Server Error", "the report could not be recorded");
        throw;
    }
    respond(report, 200, "OK", fmt::format("recorded {} for {}", e.phase, e.mac));
    report.changed = true;
    report.msg = fmt::format("{}: phase {}", e.mac, e.phase);
    report.data["event"] = e.to_json();
}

}  // namespace

void pxe_report_command(const CommonOptions& common, const PxeReportOptions& opts, Report& report) {
    PxeState state(resolve_pxe_state_dir(opts.state_dir, common.config));
    report.data["state_dir"] = state.dir();
    if (opts.event.empty()) {
        if (env("GATEWAY_INTERFACE").empty())
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
        if (!common.json) report.text = table_text(table);  // not built when nobody reads it
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
    report.changed = true;
    report.data["tied_to_mac"] = tied;
    report.msg = fmt::format("recorded {} {} {}", e->kind, e->action.empty() ? e->phase : e->action,
                             e->mac.empty() ? e->ip : e->mac);
    if (!tied) log::info("{}: no active lease has {}; kept in the log only", e->kind, e->ip);
}

}  // namespace storkit
