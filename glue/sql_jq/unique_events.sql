-- name: unique_events
-- description: Every event once, from the records as sent (processor jq: no Lambda, so no dedupe marks and no lineage). One row per event_uuid (case-insensitive) and fingerprint (event_name, created_at): exact re-sends collapse to one row, a different event reusing an id keeps its own. Copies are byte-identical, so which one is kept does not matter. The window's PARTITION BY holds the partition keys, so filters on event_type, event_date and event_hour still prune partitions.
SELECT
    event_uuid,
    event_name,
    event_subtype,
    created_at,
    created_datetime,
    record,
    event_type,
    event_date,
    event_hour
FROM (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY event_type, event_date, event_hour, lower(event_uuid), event_name, created_at
            ORDER BY record
        ) AS copy_number
    FROM (
        SELECT
            json_extract_scalar(record, '$.event_uuid') AS event_uuid,
            json_extract_scalar(record, '$.event_name') AS event_name,
            element_at(split(json_extract_scalar(record, '$.event_name'), ':'), 2) AS event_subtype,
            CAST(json_extract_scalar(record, '$.created_at') AS DOUBLE) AS created_at,
            CAST(from_unixtime(CAST(json_extract_scalar(record, '$.created_at') AS DOUBLE)) AS TIMESTAMP)
                AS created_datetime,
            record,
            event_type,
            event_date,
            event_hour
        FROM events
    ) AS parsed
) AS numbered
WHERE copy_number = 1
