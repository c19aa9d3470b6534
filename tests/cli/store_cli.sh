#!/usr/bin/env bash
# The store's commands as a site owner runs them: real binary, real files, exit codes checked.
# Usage: store_cli.sh path/to/shackd
set -uo pipefail
shackd=${1:?usage: store_cli.sh SHACKD}
command -v sqlite3 >/dev/null || { echo "FAIL: sqlite3 is not installed (scripts/setup.sh installs it)"; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
db=$dir/shackd.db
passed=0 failed=0

expect() {  # expect NAME WANT_RC PATTERN -- command...
  local name=$1 want=$2 pattern=$3
  shift 4
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [[ $rc -eq $want ]] && grep -qE -- "$pattern" <<<"$out"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    printf 'FAIL: %s: exit %s (want %s), output:\n%s\n(wanted /%s/)\n' "$name" "$rc" "$want" "$out" "$pattern"
  fi
}

latest=$(ls "$(dirname "$0")/../../schema"/[0-9][0-9][0-9][0-9]_*.sql | wc -l)   # the newest migration's number
expect "migrate a new database" 0 "now at schema version $latest" -- "$shackd" migrate --db "$db"
expect "migrate again is a no-op" 0 "up to date" -- "$shackd" migrate --db "$db"
expect "dry run lists nothing pending" 0 "up to date" -- "$shackd" migrate --db "$db" --dry-run
expect "db check passes" 0 "integrity_check: ok" -- "$shackd" db check --db "$db"
expect "profiles export" 0 'name: "Dump Load S19 #1"' -- "$shackd" profiles export --db "$db"

"$shackd" profiles export --db "$db" >"$dir/export.yaml"
expect "export applies back unchanged" 0 "unchanged" -- "$shackd" profiles apply --db "$db" --file "$dir/export.yaml"

cat >"$dir/bad.yaml" <<'YAML'
profiles:
  miners:
    - name: "Dump Load S19 #1"
      stop_voltage: 55.0
YAML
expect "a bad miner is refused" 65 "stop_voltage 55.0 must be below start_voltage 54.5" -- \
  "$shackd" profiles apply --db "$db" --file "$dir/bad.yaml"
expect "and nothing changed" 0 "stop_voltage: 53.0" -- "$shackd" profiles export --db "$db"

cat >"$dir/good.yaml" <<'YAML'
profiles:
  miners:
    - name: "Primary S21+"
      start_voltage: 50.4
    - name: "Dump Load S19 #1"
  zones:
    - name: Heat Room
    - name: Main Room
YAML
expect "a good change is applied" 0 "applied \(1 row" -- "$shackd" profiles apply --db "$db" --file "$dir/good.yaml"
expect "and shows in the export" 0 "start_voltage: 50.4" -- "$shackd" profiles export --db "$db"

# The lists are the whole set: a profile no longer named is removed, after a backup.
cat >"$dir/fewer.yaml" <<'YAML'
profiles:
  miners:
    - name: "Primary S21+"
YAML
expect "a profile not named is removed" 0 "miner 'Dump Load S19 #1': removed" -- \
  "$shackd" profiles apply --db "$db" --file "$dir/fewer.yaml"
ls "$db".bak-* >/dev/null 2>&1 && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: no backup before the removal"; }
expect "and is gone from the export" 0 "zones: \[\]" -- "$shackd" profiles export --db "$db"

# --help on every subcommand; --config in place of --db (the database the config names).
expect "profiles export --help" 0 "usage: shackd profiles export" -- "$shackd" profiles export --help
expect "profiles apply --help" 0 "shackd profiles apply --file CONFIG" -- "$shackd" profiles apply --help
expect "db check --help" 0 "usage: shackd db check" -- "$shackd" db check --help
printf 'database:\n  path: %s\ndevices:\n  solark: {host: 127.0.0.1}\nrelays: {}\n' "$db" >"$dir/site.yaml"
expect "db check --config" 0 "integrity_check: ok" -- "$shackd" db check --config "$dir/site.yaml"
expect "profiles export --config" 0 'name: "Primary S21\+"' -- "$shackd" profiles export --config "$dir/site.yaml"

expect "missing config file" 66 "cannot read" -- "$shackd" profiles apply --db "$db" --file "$dir/none.yaml"
expect "unknown option" 64 "unknown argument '--dbb'" -- "$shackd" migrate --dbb "$db"
expect "missing option value" 64 "--db needs a value" -- "$shackd" migrate --db
expect "bad number" 64 "--keep-backups 'x': expected a whole number" -- "$shackd" migrate --db "$db" --keep-backups x
expect "missing database" 66 "shackd migrate --db" -- "$shackd" db check --db "$dir/missing.db"
[[ ! -e $dir/missing.db ]] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: db check created a database"; }

sqlite3 "$db" "UPDATE schema_migrations SET sha256 = printf('%064d', 0) WHERE version = 2"
expect "an edited ledger refuses" 78 "was applied with sha256 000000000000" -- "$shackd" db check --db "$db"
expect "and migrate refuses too" 78 "an applied migration must never change" -- "$shackd" migrate --db "$db"

# A table dropped, or an index added, outside shackd: db check passed (issue 48).
"$shackd" migrate --db "$dir/dropped.db" >/dev/null
sqlite3 "$dir/dropped.db" "DROP TABLE telemetry_zone"
expect "a dropped table" 78 "schema: table telemetry_zone is missing \(dropped outside shackd\?\)" \
  -- "$shackd" db check --db "$dir/dropped.db"
"$shackd" migrate --db "$dir/extra.db" >/dev/null
sqlite3 "$dir/extra.db" "CREATE INDEX mine ON events (kind)"
expect "an index of someone else's" 78 "schema: index mine is not one the migrations make" \
  -- "$shackd" db check --db "$dir/extra.db"

head -c 8192 /dev/urandom >"$dir/junk.db"
expect "a corrupt file" 65 "not a database" -- "$shackd" db check --db "$dir/junk.db"

expect "--version" 0 "^shackd [0-9]+\.[0-9]+\.[0-9]+$" -- "$shackd" --version
expect "help lists commands" 0 "profiles export" -- "$shackd" --help
expect "unknown command" 64 "unknown command 'frobnicate'" -- "$shackd" frobnicate

# Files that are there but closed to the user (issue 31: the pi user was told to create a
# database that existed): each refusal says permission and names the fix. As root, through
# setpriv as nobody; root itself may open anything.
if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null; then
  as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
  chmod 0755 "$dir"
  cp "$db" "$dir/closed.db" && chmod 0600 "$dir/closed.db"
  expect "a database closed to the user: permission, not 'create it'" 66 \
    "database $dir/closed.db: cannot open it: permission denied: root:root 0600, and you are nobody: run it with sudo" \
    -- as_nobody "$shackd" profiles export --db "$dir/closed.db"
  expect "a database that is not there: create it" 66 "no such file; create it with .shackd migrate" \
    -- as_nobody "$shackd" profiles export --db "$dir/none.db"
  printf 'site: {name: x}\n' >"$dir/closed.yaml" && chgrp nogroup "$dir/closed.yaml" && chmod 0640 "$dir/closed.yaml"
  expect "a config its group may read: join the group" 78 \
    "permission denied: root:nogroup 0640, and you are nobody \(not in the group nogroup\): run it with sudo, or join the group: sudo adduser nobody nogroup" \
    -- setpriv --reuid=65534 --regid=1 --clear-groups "$shackd" check --config "$dir/closed.yaml"
  # The service's database as the unit leaves it (UMask 0027: the group reads the file, its -wal
  # and -shm; the directory is the service's): a member of the group reads it without write
  # access, after shackd closed it too, because the -wal and -shm stay.
  mkdir "$dir/state" && "$shackd" migrate --db "$dir/state/shackd.db" >/dev/null
  expect "the -wal and -shm stay when shackd closes the database" 0 "shackd.db-shm" \
    -- bash -c "[[ -f '$dir/state/shackd.db-wal' ]] && ls '$dir/state'"
  chgrp -R nogroup "$dir/state" && chmod 0750 "$dir/state" && chmod 0640 "$dir/state"/shackd.db*
  expect "a member of the group exports the profiles, read-only" 0 "^profiles:" \
    -- as_nobody "$shackd" profiles export --db "$dir/state/shackd.db"
  expect "a member of the group checks the database, read-only" 0 "integrity_check: ok" \
    -- as_nobody "$shackd" db check --db "$dir/state/shackd.db"
  rm "$dir/state/shackd.db-shm"
  expect "without the -shm a reader is told why, not 'attempt to write a readonly database'" 66 \
    "cannot read it: .*shackd.db-shm is missing .*run it with sudo, or start shackd once" \
    -- as_nobody "$shackd" profiles export --db "$dir/state/shackd.db"
else
  echo "SKIP: permission refusals: they need root (to become another user) and setpriv"
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
