-- Totals of the report's scope.
SELECT SUM(row_count) AS row_count, SUM(packets) AS packets, count_sources(src_v4, src_v6) AS sources,
       MIN(date) AS first_date, MAX(date) AS last_date, COUNT(DISTINCT sensor) AS sensors
FROM scope
