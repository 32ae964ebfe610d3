-- name: duplicates
-- description: Exact re-sends per event type (processor jq has no dedupe marks: a duplicate is a stored record whose fingerprint, event_uuid compared case-insensitively with event_name and created_at, an earlier stored record already carried: the copies the unique_events view collapses), beside all stored records and the duplicate share in percent (a DOUBLE, rounded to 2 decimals).
SELECT
    event_type,
    sum(copies) AS events,
    sum(copies - 1) AS duplicates,
    round(CAST(sum(copies - 1) AS DOUBLE) * 100 / sum(copies), 2) AS duplicate_percent
FROM (
    SELECT
        event_type,
        lower(json_extract_scalar(record, '$.event_uuid')) AS event_uuid,
        json_extract_scalar(record, '$.event_name') AS event_name,
        CAST(json_extract_scalar(record, '$.created_at') AS DOUBLE) AS created_at,
        count(*) AS copies
    FROM events
    GROUP BY
        event_type,
        lower(json_extract_scalar(record, '$.event_uuid')),
        json_extract_scalar(record, '$.event_name'),
        CAST(json_extract_scalar(record, '$.created_at') AS DOUBLE)
) AS fingerprints
GROUP BY event_type
ORDER BY duplicates DESC, event_type
