-- TSUBAME Table 1, second half: distinct sources of the top keys (`:ranked` is the list of
-- keys key_packets.sql put first). Only those: tens of thousands of backscatter ports
-- would otherwise cost a third of the report.
SELECT port_key, count_sources(src_v4, src_v6) AS sources
FROM scope
WHERE port_key IN (:ranked)
GROUP BY port_key
