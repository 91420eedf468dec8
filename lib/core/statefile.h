// Files that survive a crash: atomic replacement, and an exclusive lock for "one run at a time".
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "core/fd.h"

namespace storkit {

// Replaces `path` with `content` atomically: temp file in the same directory, fsync, rename,
// fsync of the directory. Readers see the old or the new content, never a mix.
// Returns false (and writes nothing) when the file already holds exactly `content`.
bool write_file_atomic(const std::string& path, const std::string& content, int mode = 0644);

// The whole file (from byte `offset` on), or nullopt when it does not exist. Throws Error on
// other failures.
std::optional<std::string> read_file(const std::string& path, uint64_t offset = 0);

// An input file a person wrote (config, template, domain definition): nullopt when it does not
// exist; Error naming the path when it is not a regular file (a FIFO, a device such as
// /dev/zero, a directory: refused before anything is read, so nothing hangs) or holds more than
// `max_bytes`.
std::optional<std::string> read_input_file(const std::string& path, size_t max_bytes);

// Appends `text` to `path` (created with `mode` if missing) in one write and syncs it: a log
// line that was acknowledged is on disk. Throws Error naming the path.
void append_synced(const std::string& path, const std::string& text, int mode = 0644);

// Creates `path` and its parents if missing, each with exactly `mode` whatever the umask;
// throws Error naming the path.
void make_dirs(const std::string& path, mode_t mode = 0755);

// Where a file is written before it is renamed over `path`: beside it (same file system),
// hidden (a leading dot: dnsmasq's hosts-dir watcher and listings skip it) and tagged with the
// writer's pid, `DIR/.NAME.tmp.PID`, so that a later run can tell a dead writer's leftover.
std::string temp_path_for(const std::string& path);

// Removes from `dir` the temp files and directories (`.NAME.tmp.PID`, `.NAME.tmp.PID.XXXXXX`)
// of writers that no longer run, e.g. killed by SIGKILL or a power cut; only those of `name`
// when it is given. A live writer's temp files stay. Returns how many were removed.
size_t remove_dead_temps(const std::string& dir, const std::string& name = "");

// An exclusive flock(2) on a lock file, held for the owner's lifetime.
class FileLock {
  public:
    // Non-blocking: throws LockedError (exit 75) when another process holds it.
    static FileLock try_acquire(const std::string& path);
    // Blocking, for short critical sections shared by concurrent processes.
    static FileLock acquire(const std::string& path);
    // Waits up to `timeout` for a holder that should let go in milliseconds; past it (the holder
    // hung) throws Error naming the path.
    static FileLock acquire_within(const std::string& path, std::chrono::milliseconds timeout);
    FileLock(FileLock&& other) noexcept = default;
    FileLock& operator=(FileLock&&) = delete;
    FileLock(const FileLock&) = delete;

  private:
    explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

}  // namespace storkit
