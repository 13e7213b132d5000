-- Packets per key and day, for surge detection.
SELECT port_key, date, SUM(packets) AS packets
FROM scope
GROUP BY port_key, date
ORDER BY port_key, date
