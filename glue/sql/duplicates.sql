-- name: duplicates
-- description: Copies marked is_duplicate (an earlier record already carried the event_uuid) per event type, beside all stored events and the duplicate share in percent.
SELECT
    event_type,
    count(*) AS events,
    count_if(is_duplicate) AS duplicates,
    round(100.0 * count_if(is_duplicate) / count(*), 2) AS duplicate_percent
FROM events
GROUP BY event_type
ORDER BY duplicates DESC, event_type
