-- compatible: yes (an index's storage setting)
-- A recording is searchable through the index the moment it is saved.
-- With GIN's fastupdate, new entries wait in a pending list until a
-- vacuum merges them, and after a bulk import (a band's backlog, a
-- restore) the planner scans the whole table instead for up to a minute
-- (measured: 48–55 ms a search on 2,000 recordings, 13 ms once merged).
-- The archive saves a few recordings a day: the slower insert costs
-- nothing worth keeping the pending list for.
ALTER INDEX recordings_search_idx SET (fastupdate = off);
-- What waits in the list already goes into the index now.
SELECT gin_clean_pending_list('recordings_search_idx'::regclass);
