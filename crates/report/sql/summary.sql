-- Totals of the report's scope.
SELECT COUNT(*) AS row_count, SUM(packets) AS packets, COUNT(DISTINCT src) AS sources,
       MIN(date) AS first_date, MAX(date) AS last_date, COUNT(DISTINCT sensor) AS sensors
FROM scope
