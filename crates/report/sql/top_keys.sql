-- TSUBAME Table 1: protocol/port keys by packets.
SELECT port_key, SUM(packets) AS packets, COUNT(DISTINCT src) AS sources
FROM scope
GROUP BY port_key
ORDER BY packets DESC, port_key
