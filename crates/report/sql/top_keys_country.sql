-- TSUBAME Table 1, for sources in one country.
SELECT port_key, SUM(packets) AS packets, COUNT(DISTINCT src) AS sources
FROM scope
WHERE src_country = :country
GROUP BY port_key
ORDER BY packets DESC, port_key
