-- TSUBAME Table 1, for sources in one country.
SELECT port_key, SUM(packets) AS packets, count_sources(src_v4, src_v6) AS sources
FROM scope
WHERE src_country = :country
GROUP BY port_key
ORDER BY packets DESC, port_key
