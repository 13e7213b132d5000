-- TSUBAME Table 1, first half: every protocol/port key by packets (the share's total is
-- their sum). Sources are counted by key_sources.sql for the top keys only.
SELECT port_key, SUM(packets) AS packets
FROM scope
GROUP BY port_key
ORDER BY packets DESC, port_key
