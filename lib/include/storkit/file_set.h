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
#include <unordered_map>
#include <vector>

namespace storkit {

class FileSet {
  public:
    // Loads the manifest at `manifest_path` if it exists (a damaged one is ignored).
    explicit FileSet(std::string manifest_path);

    // A file with this content.
    void add_content(std::string path, std::string content, mode_t mode = 0644);
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
    struct Wanted {
        std::string path;
        Kind kind;
        std::string data;  // content, source path or symlink target
        mode_t mode = 0644;
        std::string key;       // content hash or source identity (set by plan)
        bool existed = false;  // set by plan
    };
    struct Entry {  // one manifest line
        Kind kind = Kind::kContent;
        long long size = 0, mtime_ns = 0;
        unsigned long long ino = 0;
        std::string key;
    };

    bool is_unchanged(Wanted& w, Entry& fresh);
    void write_temp(const Wanted& w, const std::string& tmp, bool sync_now);
    void save_manifest();

    std::string manifest_path_;
    std::unordered_map<std::string, Entry> manifest_;
    std::vector<Wanted> wanted_;
    std::vector<std::string> dirs_, missing_dirs_;
    std::vector<size_t> writes_;  // indices into wanted_
    std::vector<std::string> removes_;
    std::unordered_map<std::string, Entry> next_manifest_;  // unchanged files' entries
    bool planned_ = false;
};

}  // namespace storkit
