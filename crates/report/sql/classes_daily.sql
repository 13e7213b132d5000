-- Classes over time.
SELECT date, class, SUM(packets) AS packets
FROM scope
GROUP BY date, class
ORDER BY date, class
