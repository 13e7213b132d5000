-- Section 8: live sensors' health over the report's range (view `health_scope` = the
-- `sensor_health` view limited to the report's sensors and dates): what each sensor read
-- from the kernel, stored, and lost.
SELECT sensor,
       source,
       SUM(segments) AS segments,
       SUM(received) AS received,
       SUM(stored) AS stored,
       SUM(kernel_drops) AS kernel_drops,
       SUM(truncated) AS truncated,
       SUM(decode_errors) AS decode_errors,
       CAST(MAX(last_end) AS VARCHAR) AS last_end
FROM health_scope
GROUP BY sensor, source
ORDER BY sensor, source
