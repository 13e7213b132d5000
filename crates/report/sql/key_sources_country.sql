-- TSUBAME Table 1 for sources in one country, second half: distinct sources of its top keys.
SELECT port_key, count_sources(src_v4, src_v6) AS sources
FROM scope
WHERE src_country = :country AND port_key IN (:ranked)
GROUP BY port_key
