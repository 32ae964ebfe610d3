-- name: latest_events
-- description: The 20 most recent events by event time, known duplicates left out (rows the dedupe store could not check, is_duplicate NULL, stay in), with the order total from the payload (NULL for types without one). Reads every partition: add event_date/event_hour filters on a large lake.
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
WHERE coalesce(is_duplicate, false) = false
ORDER BY created_datetime DESC, event_uuid
LIMIT 20
