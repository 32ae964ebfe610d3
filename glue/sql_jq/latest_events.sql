-- name: latest_events
-- description: The 20 most recent events by event time, one row per event (the unique_events view: exact re-sends collapse, processor jq having no dedupe marks), with the order total read from the record as sent (NULL for types without one). Reads every partition: add event_date/event_hour filters on a large lake.
SELECT
    event_uuid,
    event_name,
    to_iso8601(created_datetime) AS created,
    json_extract_scalar(record, '$.total.amount') AS total_amount,
    json_extract_scalar(record, '$.total.currency') AS currency,
    event_type,
    event_date,
    event_hour
FROM unique_events
ORDER BY created_datetime DESC, event_uuid
LIMIT 20
