-- name: latest_events
-- description: The 20 most recent events by event time, duplicates left out, with the order total from the payload (NULL for types without one). Reads every partition: add event_date/event_hour filters on a large lake.
SELECT
    event_uuid,
    event_name,
    to_iso8601(created_datetime) AS created,
    json_extract_scalar(payload, '$.total.amount') AS total_amount,
    json_extract_scalar(payload, '$.total.currency') AS currency,
    event_type,
    event_date,
    event_hour
FROM events
WHERE NOT is_duplicate
ORDER BY created_datetime DESC, event_uuid
LIMIT 20
