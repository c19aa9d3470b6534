#include "daemon/system/access.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace shackd {

namespace {

std::string user_name(uid_t uid) {
  const passwd* p = getpwuid(uid);
  return p ? p->pw_name : std::to_string(uid);
}
std::string group_name(gid_t gid) {
  const group* g = getgrgid(gid);
  return g ? g->gr_name : std::to_string(gid);
}
bool in_group(gid_t gid) {
  if (getegid() == gid) return true;
  const int n = getgroups(0, nullptr);
  if (n <= 0) return false;
  std::vector<gid_t> groups(static_cast<std::size_t>(n));
  const int got = getgroups(n, groups.data());
  for (int i = 0; i < got; ++i) {
    if (groups[static_cast<std::size_t>(i)] == gid) return true;
  }
  return false;
}

}  // namespace

std::string permission_problem(const std::string& path, bool write) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    if (errno != EACCES) return "";  // missing: the caller says so
    return fmt::format("permission denied: a directory on its path is closed to you ({}): run it with sudo",
                       user_name(geteuid()));
  }
  if (access(path.c_str(), write ? (R_OK | W_OK) : R_OK) == 0 || errno != EACCES) return "";
  const std::string me = user_name(geteuid()), group = group_name(st.st_gid);
  const bool group_may = (st.st_mode & (write ? 0060 : 0040)) == (write ? 0060u : 0040u);
  std::string out = fmt::format("permission denied: {}:{} {:04o}, and you are {}", user_name(st.st_uid), group,
                                st.st_mode & 07777, me);
  if (group_may && !in_group(st.st_gid)) {
    out += fmt::format(" (not in the group {}): run it with sudo, or join the group: sudo adduser {} {}, then log in "
                       "again", group, me, group);
  } else {
    out += ": run it with sudo";
  }
  return out;
}

std::string write_problem_for(const std::string& path, const std::string& user) {
  const passwd* p = getpwnam(user.c_str());
  struct stat st {};
  if (!p || stat(path.c_str(), &st) != 0) return "";
  if (p->pw_uid == 0) return "";
  const uid_t uid = p->pw_uid;
  const gid_t gid = p->pw_gid;
  int n = 64;
  std::vector<gid_t> groups(static_cast<std::size_t>(n));
  if (getgrouplist(p->pw_name, gid, groups.data(), &n) < 0) {
    groups.resize(static_cast<std::size_t>(n));
    getgrouplist(p->pw_name, gid, groups.data(), &n);
  }
  groups.resize(static_cast<std::size_t>(std::max(n, 0)));
  const bool dir = S_ISDIR(st.st_mode);
  // A directory needs w and x to create a file in it; a file, w.
  const mode_t need_user = dir ? 0300 : 0200, need_group = dir ? 0030 : 0020, need_other = dir ? 0003 : 0002;
  bool may = false;
  if (st.st_uid == uid) {
    may = (st.st_mode & need_user) == need_user;
  } else if (std::find(groups.begin(), groups.end(), st.st_gid) != groups.end()) {
    may = (st.st_mode & need_group) == need_group;
  } else {
    may = (st.st_mode & need_other) == need_other;
  }
  if (may) return "";
  return fmt::format("{} is {}:{} {:04o}: {} may not write {}", path, user_name(st.st_uid), group_name(st.st_gid),
                     st.st_mode & 07777, user, dir ? "in it" : "it");
}

}  // namespace shackd
