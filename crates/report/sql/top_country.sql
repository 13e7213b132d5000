-- The country with the most packets (the default for the per-country table).
SELECT src_country, SUM(packets) AS packets
FROM scope
WHERE src_country IS NOT NULL
GROUP BY src_country
ORDER BY packets DESC, src_country
LIMIT 1
