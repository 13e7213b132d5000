-- TSUBAME Table 2: keys by packets at each sensor.
SELECT sensor, port_key, SUM(packets) AS packets
FROM scope
GROUP BY sensor, port_key
ORDER BY sensor, packets DESC, port_key
