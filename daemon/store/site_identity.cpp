#include "daemon/store/site_identity.hpp"

#include "daemon/publish/ha_discovery.hpp"
#include "daemon/store/runtime_store.hpp"

namespace shackd {

SiteIdentity site_identity(db::Db& db, const std::string& site_name, std::int64_t unix_now) {
  auto s = db.prepare("SELECT site_id, named_from FROM site_identity WHERE singleton = 1");
  if (s.step()) return {s.text(0), s.text(1), false};
  SiteIdentity id{slug(site_name).substr(0, 64), site_name, true};
  db.prepare("INSERT INTO site_identity (singleton, site_id, named_from, fixed_at) VALUES (1, ?1, ?2, ?3)")
      .bind(1, id.site_id)
      .bind(2, site_name)
      .bind(3, iso_utc(unix_now))
      .run();
  return id;
}

}  // namespace shackd
