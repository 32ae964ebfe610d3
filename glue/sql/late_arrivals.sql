-- name: late_arrivals
-- description: Events that reached Kinesis more than an hour after their event time, per event type and arrival hour (UTC): they land in old event-hour partitions, so consumers that read only the newest partitions miss them.
SELECT
    event_type,
    format_datetime(source_arrival_datetime, 'yyyy-MM-dd HH') AS arrival_hour,
    count(*) AS late_events,
    max(source_arrival_datetime - created_datetime) AS max_lag
FROM events
WHERE source_arrival_datetime > created_datetime + INTERVAL '1' HOUR
GROUP BY event_type, format_datetime(source_arrival_datetime, 'yyyy-MM-dd HH')
ORDER BY arrival_hour, event_type
