-- A placeholder for the other branch's migration 0017 (taken by another engineer's work), so that
-- this branch's numbers run without a gap to 0018 (issue 59's ac_overload). It creates nothing.
-- Drop this file when this branch is merged after the real 0017.
SELECT 1;
