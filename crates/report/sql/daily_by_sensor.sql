-- TSUBAME Figures 2 and 3: packets per sensor and day, with the year before.
SELECT sensor, sensor_group, date, SUM(packets) AS packets
FROM history
GROUP BY sensor, sensor_group, date
ORDER BY sensor, date
