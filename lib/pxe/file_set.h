// A set of generated files, written incrementally: every file is rendered in memory first,
// compared with what is on disk, and only the files that differ are written. Files from an
// earlier run that are no longer wanted are removed.
//
// A manifest (one line per file: what was written and the file's stat afterwards) makes the
// comparison cheap: a file whose stat still matches and whose new content hashes the same is
// not read at all. Without a usable manifest entry the file is read and compared, so a lost
// manifest costs time, never a needless rewrite.
//
// Writing is atomic per file (temp file + rename) and durable per batch: all temp files, one
// sync, all renames, one sync per directory. Readers (dnsmasq, lighttpd, nodes) see each file
// old or new, never half-written.
#pragma once

#include <sys/types.h>

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace storkit {

class FileSet {
  public:
    // Loads the manifest at `manifest_path` if it exists (a damaged one is ignored).
    explicit FileSet(std::string manifest_path);

    // A file with this content; with a `gid`, owned by that group (e.g. a file the CGI reads).
    void add_content(std::string path, std::string content, mode_t mode = 0644, long gid = -1);
    // A copy of `source` (e.g. a boot loader from a Debian package), refreshed when it changes.
    void add_copy(std::string path, std::string source);
    // A hard link to `source` (a copy when they are on different file systems).
    void add_hardlink(std::string path, std::string source);
    void add_symlink(std::string path, std::string target);
    // A directory that must exist (never removed).
    void add_dir(std::string path);
    // A file whose source does not exist yet (a dry run before an extraction): always listed
    // as changed; commit() refuses it.
    void add_pending(std::string path);

    // Compares the wanted files with the disk and the manifest. Throws Error when a source
    // file is missing or a path cannot be examined.
    void plan();
    // Paths that commit() would write (directories end with '/') and remove, sorted.
    std::vector<std::string> changed() const;
    std::vector<std::string> removed() const;
    // Of changed(), the files that existed before (replaced rather than created).
    std::vector<std::string> replaced() const;
    size_t unchanged() const { return wanted_.size() - writes_.size(); }

    // Writes the planned changes and saves the manifest. Throws Error naming the path on
    // failure; files already renamed stay (each is complete), temp files are removed.
    void commit();

  private:
    enum class Kind : char {
        kContent = 'c',
        kCopy = 'f',
        kHardlink = 'h',
        kSymlink = 'l',
        kPending = 'p'
    };
    struct Stat {  // what a manifest line records of the file
        long long size = 0, mtime_ns = 0;
        unsigned long long ino = 0;
        bool operator==(const Stat&) const = default;
    };
    struct Entry {  // one manifest line
        std::string path;
        Kind kind = Kind::kContent;
        Stat stat;
        std::string key;
    };
    struct Wanted {
        std::string path;
        Kind kind = Kind::kContent;
        std::string data;  // content, source path or symlink target
        mode_t mode = 0644;
        long gid = -1;  // the group it must belong to; -1: any
        // Set by plan():
        std::string key;         // content hash or source identity
        bool existed = false;    // the path existed
        bool unchanged = false;  // and holds what is wanted
        bool confirmed = false;  // ... as the manifest entry says, without reading it
        bool in_manifest = false;
        Stat fresh;  // the file's stat when unchanged
    };

    void add(std::string path, Kind kind, std::string data, mode_t mode);
    void examine(Wanted& w, const Entry* old, int dir_fd) const;
    // The manifest entry of wanted_[i], or nullptr.
    const Entry* entry_for(size_t i) const;
    void find_stale();
    void write_batch();
    // Returns whether the temp file is a new inode (false for a link) that finish_temp gives
    // its group and mode.
    bool write_temp(const Wanted& w, const std::string& tmp, bool sync_now);
    static void finish_temp(const Wanted& w, const std::string& tmp);
    void remove_leftovers();
    void save_manifest();

    std::string manifest_path_;
    // In file order, which is the order files were added in the last run: when this run adds
    // the same paths in the same order (the usual case), entries are matched by position,
    // else through the index.
    std::vector<Entry> manifest_;
    std::unordered_map<std::string_view, size_t> manifest_index_;
    bool aligned_ = false;
    std::vector<Wanted> wanted_;
    std::vector<std::string> dirs_, missing_dirs_;
    std::vector<size_t> writes_;  // indices into wanted_
    std::vector<std::string> removes_;
    bool manifest_dirty_ = false;  // the saved manifest would differ
    bool planned_ = false;
};

}  // namespace storkit
