-- A placeholder for issue 59's migration 0015 (branch issue59-generator), so that this branch's
-- numbers run without a gap to 0016 (issue 60's shadow_disagreements). It creates nothing. Drop
-- this file when the branch is merged after the real 0015.
SELECT 1;
