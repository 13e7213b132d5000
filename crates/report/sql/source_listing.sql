-- Every packet of one key with its source and time (the raw listing, as CSV).
SELECT src, ts, sensor, dst, class, src_asn, src_country, src_city, packets
FROM scope_events
WHERE port_key = :key
ORDER BY src, ts
