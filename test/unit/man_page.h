// Reading the roff man pages in man/ from the unit tests, to check them against the tables the
// code uses (config keys, template variables). STORKIT_SOURCE_DIR is set by test/CMakeLists.txt.
#pragma once

#include <fstream>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "core/config_file.h"

namespace storkit::test {

// The text of man/<name>.
inline std::string man_page(const std::string& name) {
    std::ifstream in(std::string(STORKIT_SOURCE_DIR) + "/man/" + name);
    if (!in) throw std::runtime_error("cannot read man/" + name);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The words of a roff line set in bold or italics (font changes \fB, \fI, \fR, \fP); a word
// may change font inside, as in \fBnodes.\fINAME\fB.libvirt\fR ("nodes.NAME.libvirt").
inline std::vector<std::string> marked_words(const std::string& line) {
    std::vector<std::string> words;
    std::string word;
    bool marked = false;
    auto end_word = [&] {
        if (!word.empty()) words.push_back(word);
        word.clear();
    };
    for (size_t i = 0; i < line.size(); ++i) {
        if (line.compare(i, 2, "\\f") == 0 && i + 2 < line.size()) {
            marked = line[i + 2] == 'B' || line[i + 2] == 'I';
            i += 2;
        } else if (line.compare(i, 2, "\\-") == 0) {
            if (marked) word += '-';
            ++i;
        } else if (!marked || line[i] == ' ' || line[i] == ',') {
            end_word();
        } else {
            word += line[i];
        }
    }
    end_word();
    return words;
}

// The key paths the CONFIGURATION section of a page documents: the marked words of every .TP
// item's tag line, with the name of the .SS subsection they are in (if any) in front.
inline std::set<std::string> documented_keys(const std::string& page) {
    std::set<std::string> keys;
    std::istringstream in(page);
    std::string line, subsection;
    bool in_config = false, tag_next = false;
    while (std::getline(in, line)) {
        if (line.rfind(".SH", 0) == 0) in_config = line == ".SH CONFIGURATION";
        if (!in_config) continue;
        if (line.rfind(".SS ", 0) == 0) subsection = line.substr(4);
        if (tag_next)
            for (const std::string& w : marked_words(line))
                keys.insert(subsection.empty() ? w : subsection + "." + w);
        tag_next = line == ".TP";
    }
    return keys;
}

// The marked words of the paragraph whose first line starts with `start`.
inline std::vector<std::string> paragraph_words(const std::string& page, const std::string& start) {
    std::vector<std::string> words;
    std::istringstream in(page);
    std::string line;
    bool inside = false;
    while (std::getline(in, line)) {
        if (line.rfind(start, 0) == 0)
            inside = true;
        else if (line.rfind(".", 0) == 0)
            inside = false;
        if (!inside) continue;
        for (const std::string& w : marked_words(line)) words.push_back(w);
    }
    return words;
}

// Every key path of a table: each section's keys, with the section's path in front.
inline std::set<std::string> table_keys(std::span<const ConfigSection> sections) {
    std::set<std::string> keys;
    for (const ConfigSection& s : sections)
        for (std::string_view k : s.keys)
            keys.insert(s.path.empty() ? std::string(k)
                                       : std::string(s.path) + "." + std::string(k));
    return keys;
}

// The keys of the table the page does not document. A key that holds a section counts as
// documented when keys inside it are ("bmc" by "bmc.subnet").
inline std::set<std::string> undocumented(const std::set<std::string>& table,
                                          const std::set<std::string>& documented) {
    std::set<std::string> out;
    for (const std::string& k : table) {
        auto after = documented.lower_bound(k + ".");
        bool inside = after != documented.end() && after->rfind(k + ".", 0) == 0;
        if (!documented.count(k) && !inside) out.insert(k);
    }
    return out;
}

// The documented keys the table does not have.
inline std::set<std::string> unknown(const std::set<std::string>& table,
                                     const std::set<std::string>& documented) {
    std::set<std::string> out;
    for (const std::string& k : documented)
        if (!table.count(k)) out.insert(k);
    return out;
}

}  // namespace storkit::test
