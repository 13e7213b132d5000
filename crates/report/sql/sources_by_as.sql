-- Senders of one key grouped by network (the HiNet table).
SELECT src_asn, src_as_name, SUM(packets) AS packets, count_sources(src_v4, src_v6) AS sources
FROM scope
WHERE port_key = :key
GROUP BY src_asn, src_as_name
ORDER BY packets DESC, src_asn
