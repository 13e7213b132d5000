-- TSUBAME Table 1: protocol/port keys by packets.
SELECT port_key, SUM(packets) AS packets, count_sources(src_v4, src_v6) AS sources
FROM scope
GROUP BY port_key
ORDER BY packets DESC, port_key
