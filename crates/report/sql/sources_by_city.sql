-- Senders of one key grouped by country and city.
SELECT src_country, src_city, SUM(packets) AS packets, COUNT(DISTINCT src) AS sources
FROM scope
WHERE port_key = :key
GROUP BY src_country, src_city
ORDER BY packets DESC, src_country, src_city
