-- Senders of one key grouped by country and city.
SELECT src_country, src_city, SUM(packets) AS packets, count_sources(src_v4, src_v6) AS sources
FROM scope
WHERE port_key = :key
GROUP BY src_country, src_city
ORDER BY packets DESC, src_country, src_city
