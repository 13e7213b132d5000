-- TSUBAME Table 1 for sources in one country, first half: keys by packets.
SELECT port_key, SUM(packets) AS packets
FROM scope
WHERE src_country = :country
GROUP BY port_key
ORDER BY packets DESC, port_key
