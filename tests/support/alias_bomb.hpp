#pragma once
// A "billion laughs" in YAML: nine lists of nine aliases to the list before, nine deep (9^9
// scalars through aliases; YAML 1.2 §3.2.2.2 allows an alias anywhere a node goes), about 2 kB.
// Under `key:`, so that it can stand in any section.
#include <string>

namespace test {

inline std::string alias_bomb(const std::string& key = "bomb") {
  std::string s = key + ":\n  l0: &l0 [\"lol lol lol lol lol\", \"lol lol lol lol lol\", \"lol lol lol lol lol\", "
                        "\"lol lol lol lol lol\", \"lol lol lol lol lol\", \"lol lol lol lol lol\", \"lol lol lol lol lol\", "
                        "\"lol lol lol lol lol\", \"lol lol lol lol lol\"]\n";
  for (int level = 1; level <= 9; ++level) {
    const std::string prev = "*l" + std::to_string(level - 1);
    s += "  l" + std::to_string(level) + ": &l" + std::to_string(level) + " [";
    for (int i = 0; i < 9; ++i) s += (i ? ", " : "") + prev;
    s += "]\n";
  }
  return s;
}

}  // namespace test
