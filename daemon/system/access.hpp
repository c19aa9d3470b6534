#pragma once
// Why this process may not open a file, in words an owner can act on (issue 31: `shackd status`
// as the pi user said "cannot read the config file", and a database it may not open was "create
// it with shackd migrate", when both files were there).
#include <string>

namespace shackd {

// When `path` exists but this user may not read it (or write it, with `write`): "permission
// denied: root:shackd 0640, and you are pi (not in the group shackd): run it with sudo, or join
// the group: sudo adduser pi shackd, then log in again". Empty when it is missing or allowed.
std::string permission_problem(const std::string& path, bool write = false);

// Why `user` (a user name) may not write in `path` (a directory: create files in it; a file: write
// it), from its owner, group and mode against the user's own and supplementary groups (root may
// always); empty when it may, or when `path` or the user does not exist (the caller says so).
// "/var/lib/shackd is root:root 0755: shackd may not write in it".
std::string write_problem_for(const std::string& path, const std::string& user);

}  // namespace shackd
