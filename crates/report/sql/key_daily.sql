-- The ISC's "denies per day" for one key: packets and distinct sources per day.
SELECT date, SUM(packets) AS packets, count_sources(src_v4, src_v6) AS sources
FROM scope
WHERE port_key = :key
GROUP BY date
ORDER BY date
