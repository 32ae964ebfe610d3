-- name: unique_events
-- description: Every event once: the earliest-arriving copy of each event_uuid (compared case-insensitively, as the Lambda does) and fingerprint (event_name and event time: a different event reusing an id keeps its own row), whatever the duplicate marks say. The window's PARTITION BY holds event_type, event_date and event_hour, so add filters on them (here or around this query) and Athena still prunes partitions.
SELECT
    event_uuid,
    event_name,
    event_subtype,
    created_at,
    created_datetime,
    is_duplicate,
    uuid_reused,
    payload,
    source_shard_id,
    source_sequence_number,
    source_subsequence_number,
    source_arrival_datetime,
    event_type,
    event_date,
    event_hour
FROM (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY event_type, event_date, event_hour, lower(event_uuid), event_name, created_datetime
            ORDER BY
                source_arrival_datetime ASC NULLS LAST,
                source_shard_id ASC NULLS LAST,
                length(source_sequence_number) ASC NULLS LAST,
                source_sequence_number ASC NULLS LAST,
                source_subsequence_number ASC NULLS FIRST
        ) AS copy_number
    FROM events
) AS numbered
WHERE copy_number = 1
