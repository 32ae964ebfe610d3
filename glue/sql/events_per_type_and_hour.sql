-- name: events_per_type_and_hour
-- description: Stored events per event type and event hour (UTC), duplicates included: one row per partition, read from Parquet metadata, so it scans almost nothing.
SELECT
    event_type,
    event_date,
    event_hour,
    count(*) AS events
FROM events
GROUP BY event_type, event_date, event_hour
ORDER BY event_type, event_date, event_hour
