// A tiny text template: `{{name}}` is replaced by the value of variable `name`; nothing else is
// special. Variables are resolved when the template is compiled, so an unknown name is an error
// before anything is rendered, and rendering is a copy of slices (fast enough for 10,000 nodes).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace storkit {

class TextTemplate {
  public:
    TextTemplate() = default;

    // Compiles `text`. `names` are the known variables; a variable's index in `names` is the
    // index of its value in render(). Throws ConfigError "<source>:<line>: unknown variable
    // {{x}} (known: ...)" or "<source>:<line>: unclosed {{". Spaces inside braces are allowed.
    static TextTemplate compile(std::string_view text, const std::vector<std::string>& names,
                                const std::string& source);

    // Appends the rendered text to `out`; values[i] is the value of names[i].
    void render_to(std::string& out, const std::vector<std::string_view>& values) const;
    std::string render(const std::vector<std::string_view>& values) const;

    // Whether variable `index` appears in the template.
    bool uses(size_t index) const;

  private:
    struct Piece {
        size_t offset = 0;  // into text_ (literal pieces)
        size_t length = 0;
        int var = -1;  // variable index, or -1 for a literal
    };
    std::string text_;
    std::vector<Piece> pieces_;
    size_t literal_size_ = 0;
};

}  // namespace storkit
