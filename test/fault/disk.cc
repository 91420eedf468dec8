#include "disk.h"

#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "core/statefile.h"
#include "mgmtvm/backend_sim.h"

extern char** environ;

namespace fault {

Writers::Writers(std::string writer_bin, std::string sim_dir)
    : bin_(std::move(writer_bin)), sim_dir_(std::move(sim_dir)) {}

Writers::~Writers() {
    try {
        stop_all();
    } catch (const std::exception&) {
        // the sim directory may be gone already; the processes are killed either way
    }
}

uint64_t Writers::start(const std::string& node) {
    uint64_t id = storkit::SimDisk(sim_dir_).open(node);
    std::vector<std::string> args = {bin_, sim_dir_, std::to_string(id), node};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, bin_.c_str(), nullptr, nullptr, argv.data(), environ);
    if (rc != 0) throw std::runtime_error(fmt::format("{}: cannot start: {}", bin_, rc));
    pids_[id] = pid;
    return id;
}

void Writers::stop(uint64_t client) {
    auto it = pids_.find(client);
    if (it == pids_.end()) return;
    ::kill(it->second, SIGKILL);
    int status = 0;
    ::waitpid(it->second, &status, 0);
    pids_.erase(it);
    storkit::SimDisk(sim_dir_).close(client);
}

void Writers::stop_all() {
    while (!pids_.empty()) stop(pids_.begin()->first);
}

std::vector<uint64_t> Writers::reap_dead() {
    std::vector<uint64_t> out;
    for (const auto& [id, pid] : pids_) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) out.push_back(id);
    }
    for (uint64_t id : out) {
        pids_.erase(id);
        storkit::SimDisk(sim_dir_).close(id);
    }
    return out;
}

bool Writers::blocklisted(uint64_t client) const {
    std::istringstream in(storkit::read_file(sim_dir_ + "/disk/blocklist").value_or(""));
    for (uint64_t id = 0; in >> id;)
        if (id == client) return true;
    return false;
}

WriteLog::WriteLog(std::string sim_dir) : path_(std::move(sim_dir) + "/disk/log") {}

std::vector<std::string> WriteLog::check() {
    std::vector<std::string> violations;
    std::optional<std::string> more = storkit::read_file(path_, offset_);
    if (!more) return violations;
    offset_ += more->size();
    std::string text = partial_ + *more;
    size_t end = text.rfind('\n');
    partial_ = end == std::string::npos ? text : text.substr(end + 1);
    std::istringstream in(end == std::string::npos ? "" : text.substr(0, end + 1));
    for (std::string line; std::getline(in, line);) {
        std::istringstream f(line);
        std::string verdict, node;
        uint64_t client = 0, seq = 0;
        if (!(f >> verdict >> client >> node >> seq))
            throw std::runtime_error(fmt::format("{}: bad line: {}", path_, line));
        node_of_[client] = node;
        if (verdict != "ok") {
            ++refused_;
            continue;
        }
        ++accepted_;
        if (client == last_) continue;
        if (last_ != 0 && !superseded_.count(last_)) superseded_[last_] = client;
        auto it = superseded_.find(client);
        if (it != superseded_.end() && reported_.insert(std::minmax(client, it->second)).second)
            violations.push_back(fmt::format(
                "client {} ({}) wrote again (write {}) after client {} ({}) had written", client,
                node, seq, it->second, node_of_[it->second]));
        last_ = client;
    }
    return violations;
}

}  // namespace fault
