-- name: events_per_type_and_hour
-- description: Stored records per event type and event hour (UTC), exact re-sends and unvalidated records included (processor jq: the records as sent): one row per partition. The objects are GZIP JSON Lines, so counting reads every byte of the partitions it covers: add event_date/event_hour filters on a large lake.
SELECT
    event_type,
    event_date,
    event_hour,
    count(*) AS events
FROM events
GROUP BY event_type, event_date, event_hour
ORDER BY event_type, event_date, event_hour
