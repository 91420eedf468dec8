// The chassis_control program of the simulated BMCs (scripts/testbed/bmc-sim compiles it).
// ipmi_sim runs it through popen() for every chassis command and waits for it, so it is a
// small compiled program: a shell script with date(1) costs a BMC milliseconds per command,
// a real BMC answers in microseconds.
//
//   bmc-chassis DIR get power|boot ...   prints "power:0|1" / "boot:DEVICE" lines
//   bmc-chassis DIR set power 0|1 | reset 1 | shutdown 1 | boot DEVICE | identify ... [...]
//
// The node's state lives in DIR: "power" (0/1), "boot" (the device of the next boot, back to
// "default" once a boot used it), and "events.log": one line per command with the time,
// "<epoch seconds> set <what> <value>", plus "<epoch seconds> boot <device>" for every boot.
// When DIR/on-boot is executable, every boot also starts it, detached, as
// `DIR/on-boot DIR DEVICE` (a test can start a DHCP client with the node's MAC there).
// DIR/stall makes the next power or reset command answer late, as a BMC whose answer is lost:
// "SECONDS apply" waits SECONDS, then carries the command out; "SECONDS drop" waits and does
// nothing, and ignores power and reset commands for 2 s more (the client's resends of the same
// request), as a BMC that never got it. ipmi_sim answers nothing else meanwhile. One use.
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

std::string dir;

std::string read_value(const char* name, const char* fallback) {
    char buf[64] = "";
    FILE* f = std::fopen((dir + "/" + name).c_str(), "r");
    if (!f) return fallback;
    bool ok = std::fgets(buf, sizeof buf, f) != nullptr;
    std::fclose(f);
    if (!ok) return fallback;
    buf[std::strcspn(buf, "\r\n")] = '\0';
    return buf;
}

void write_value(const char* name, const std::string& value) {
    FILE* f = std::fopen((dir + "/" + name).c_str(), "w");
    if (!f) return;
    std::fprintf(f, "%s\n", value.c_str());
    std::fclose(f);
}

void log_event(const timespec& now, const std::string& what) {
    FILE* f = std::fopen((dir + "/events.log").c_str(), "a");
    if (!f) return;
    std::fprintf(f, "%ld.%09ld %s\n", static_cast<long>(now.tv_sec), now.tv_nsec, what.c_str());
    std::fclose(f);
}

bool valid_boot(const std::string& v) {
    for (const char* d : {"none", "pxe", "default", "cdrom", "bios"})
        if (v == d) return true;
    return false;
}

// Starts DIR/on-boot in its own session with no tie to our stdout: ipmi_sim reads our output
// until it ends, so a child holding it open would stall the BMC.
void run_on_boot(const std::string& device) {
    std::string hook = dir + "/on-boot";
    if (::access(hook.c_str(), X_OK) != 0) return;
    pid_t pid = ::fork();
    if (pid != 0) {
        if (pid > 0) ::waitpid(pid, nullptr, 0);
        return;
    }
    ::setsid();
    if (::fork() != 0) ::_exit(0);  // the grandchild is reparented, nobody waits for it
    int null = ::open("/dev/null", O_RDWR);
    int log = ::open((dir + "/on-boot.log").c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
    ::dup2(null, 0);
    ::dup2(log >= 0 ? log : null, 1);
    ::dup2(log >= 0 ? log : null, 2);
    ::execl(hook.c_str(), hook.c_str(), dir.c_str(), device.c_str(), nullptr);
    ::_exit(127);
}

// The node boots: from the override if one is set, which is then used up.
void boot(const timespec& now) {
    std::string device = read_value("boot", "default");
    log_event(now, "boot " + device);
    write_value("boot", "default");
    run_on_boot(device);
}

// A stall asked for in DIR/stall (see the top); returns whether the command is dropped.
bool stall(const timespec& now) {
    std::string how = read_value("stall", "");
    if (how.empty()) return false;
    double seconds = 0, until = 0;
    char mode[16] = "";
    if (std::sscanf(how.c_str(), "drop-until %lf", &until) == 1) {
        if (static_cast<double>(now.tv_sec) < until) {
            log_event(now, "dropped");
            return true;
        }
        std::remove((dir + "/stall").c_str());
        return false;
    }
    if (std::sscanf(how.c_str(), "%lf %15s", &seconds, mode) != 2) return false;
    bool drop = std::string(mode) == "drop";
    if (drop)
        write_value("stall", "drop-until " + std::to_string(now.tv_sec + seconds + 3));
    else
        std::remove((dir + "/stall").c_str());
    log_event(now, std::string("stall ") + mode);
    timespec pause{
        static_cast<time_t>(seconds),
        static_cast<long>((seconds - static_cast<double>(static_cast<time_t>(seconds))) * 1e9)};
    nanosleep(&pause, nullptr);
    return drop;
}

int set(int argc, char** argv) {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    for (int i = 0; i + 1 < argc; i += 2) {
        std::string p = argv[i];
        if ((p == "power" || p == "reset") && stall(now)) return 0;
        if (p == "power" || p == "reset") break;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    for (int i = 0; i + 1 < argc; i += 2) {
        std::string p = argv[i], v = argv[i + 1];
        log_event(now, "set " + p + " " + v);
        if (p == "power") {
            std::string old = read_value("power", "0");
            write_value("power", v);
            if (v == "1" && old != "1") boot(now);
        } else if (p == "shutdown") {
            write_value("power", "0");
        } else if (p == "reset") {
            boot(now);
        } else if (p == "boot") {
            if (!valid_boot(v)) {
                std::printf("unknown boot device %s\n", v.c_str());
                return 1;
            }
            write_value("boot", v);
        } else if (p != "identify") {
            std::printf("unknown parameter %s\n", p.c_str());
            return 1;
        }
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: bmc-chassis DIR get|set ...\n");
        return 2;
    }
    dir = argv[1];
    std::string op = argv[2];
    if (op == "set") return set(argc - 3, argv + 3);
    if (op != "get") {
        std::printf("unknown operation %s\n", op.c_str());
        return 1;
    }
    for (int i = 3; i < argc; ++i) {
        std::string p = argv[i];
        if (p == "power")
            std::printf("power:%s\n", read_value("power", "0").c_str());
        else if (p == "boot")
            std::printf("boot:%s\n", read_value("boot", "default").c_str());
        else {
            std::printf("unknown parameter %s\n", p.c_str());
            return 1;
        }
    }
    return 0;
}
