#include "core/completion.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <vector>

namespace storkit {

namespace {

bool hidden(const CLI::Option* o) {
    return o->get_group().empty();
}

// Options that name a file or a directory: their value completes as a path.
bool takes_path(const CLI::Option* o) {
    for (const std::string& n : o->get_lnames())
        if (n == "config" || n == "state-dir" || n == "table" || n.ends_with("file") ||
            n.ends_with("-dir"))
            return true;
    return false;
}

// The words an app offers: its options (--long and -s), its subcommands, and the choices of a
// positional documented as "a|b|c". Paths: options whose value is a path; values: options
// that take another value (nothing to complete after them).
void collect(CLI::App& app, std::set<std::string>& words, std::set<std::string>& paths,
             std::set<std::string>& values) {
    for (const CLI::Option* o : app.get_options()) {
        if (hidden(o)) continue;
        if (!o->nonpositional()) {
            const std::string& d = o->get_description();
            if (d.find('|') == std::string::npos || d.find(' ') != std::string::npos) continue;
            size_t start = 0;
            for (;;) {
                size_t bar = d.find('|', start);
                words.insert(d.substr(start, bar - start));
                if (bar == std::string::npos) break;
                start = bar + 1;
            }
            continue;
        }
        std::vector<std::string> names;
        for (const std::string& n : o->get_lnames()) names.push_back("--" + n);
        for (const std::string& n : o->get_snames()) names.push_back("-" + n);
        for (const std::string& n : names) {
            words.insert(n);
            if (o->get_items_expected_max() > 0) (takes_path(o) ? paths : values).insert(n);
        }
    }
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
        words.insert(sub->get_name());
}

std::string joined(const std::set<std::string>& s) {
    return fmt::format("{}", fmt::join(s, " "));
}

}  // namespace

std::string bash_completion(CLI::App& app, const std::string& tool) {
    std::string fn = "_storkit_" + tool;
    std::replace(fn.begin(), fn.end(), '-', '_');
    std::set<std::string> top, paths, values;
    collect(app, top, paths, values);
    std::vector<CLI::App*> subs = app.get_subcommands([](CLI::App*) { return true; });

    std::string cases;
    std::set<std::string> top_options;
    for (const std::string& w : top)
        if (w.starts_with("-")) top_options.insert(w);
    for (CLI::App* sub : subs) {
        std::set<std::string> words = top_options;  // common options follow a subcommand too
        collect(*sub, words, paths, values);
        cases += fmt::format("        {}) words=\"{}\" ;;\n", sub->get_name(), joined(words));
    }
    std::vector<std::string> sub_names;
    sub_names.reserve(subs.size());
    for (CLI::App* sub : subs) sub_names.push_back(sub->get_name());

    std::string out = fmt::format(
        "# bash completion for {tool}, generated from its option parser by\n"
        "# `{tool} --bash-completion`.\n"
        "{fn}() {{\n"
        "    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}} sub= w "
        "words\n",
        fmt::arg("tool", tool), fmt::arg("fn", fn));
    if (!sub_names.empty())
        out += fmt::format(
            "    for w in \"${{COMP_WORDS[@]:1:COMP_CWORD-1}}\"; do\n"
            "        case $w in {}) sub=$w ;; esac\n"
            "    done\n",
            fmt::join(sub_names, "|"));
    if (!paths.empty() || !values.empty()) {
        out += "    case $prev in\n";
        if (!paths.empty())
            out += fmt::format("        {}) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n",
                               fmt::join(paths, "|"));
        if (!values.empty())
            out += fmt::format("        {}) COMPREPLY=(); return ;;\n", fmt::join(values, "|"));
        out += "    esac\n";
    }
    out += fmt::format(
        "    case $sub in\n"
        "{}"
        "        *) words=\"{}\" ;;\n"
        "    esac\n"
        "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
        "}}\n"
        "complete -F {} {}\n",
        cases, joined(top), fn, tool);
    return out;
}

}  // namespace storkit
