#include "core/text_template.h"

#include <algorithm>

#include "core/error.h"

namespace storkit {

namespace {

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

size_t line_of(std::string_view text, size_t pos) {
    return 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + pos, '\n'));
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
}

}  // namespace

TextTemplate TextTemplate::compile(std::string_view text, const std::vector<std::string>& names,
                                   const std::string& source) {
    TextTemplate t;
    t.text_ = std::string(text);
    size_t pos = 0;
    auto literal = [&t](size_t from, size_t to) {
        if (to > from) {
            t.pieces_.push_back({from, to - from, -1});
            t.literal_size_ += to - from;
        }
    };
    while (pos < text.size()) {
        size_t open = text.find("{{", pos);
        if (open == std::string_view::npos) break;
        size_t close = text.find("}}", open + 2);
        if (close == std::string_view::npos)
            throw ConfigError(fmt::format("{}:{}: unclosed {{{{ (expected {{{{name}}}})", source,
                                          line_of(text, open)));
        std::string_view name = trim(text.substr(open + 2, close - open - 2));
        bool valid = !name.empty() && std::all_of(name.begin(), name.end(), is_name_char);
        auto it = std::find(names.begin(), names.end(), name);
        if (!valid || it == names.end()) {
            throw ConfigError(fmt::format("{}:{}: unknown variable {{{{{}}}}} (known: {})", source,
                                          line_of(text, open), name, fmt::join(names, ", ")));
        }
        literal(pos, open);
        t.pieces_.push_back({0, 0, static_cast<int>(it - names.begin())});
        pos = close + 2;
    }
    literal(pos, text.size());
    return t;
}

void TextTemplate::render_to(std::string& out, const std::vector<std::string_view>& values) const {
    size_t need = literal_size_;
    for (const Piece& p : pieces_)
        if (p.var >= 0) need += values[static_cast<size_t>(p.var)].size();
    out.reserve(out.size() + need);
    for (const Piece& p : pieces_) {
        if (p.var < 0)
            out.append(text_, p.offset, p.length);
        else
            out.append(values[static_cast<size_t>(p.var)]);
    }
}

std::string TextTemplate::render(const std::vector<std::string_view>& values) const {
    std::string out;
    render_to(out, values);
    return out;
}

bool TextTemplate::uses(size_t index) const {
    return std::any_of(pieces_.begin(), pieces_.end(),
                       [index](const Piece& p) { return p.var == static_cast<int>(index); });
}

}  // namespace storkit
