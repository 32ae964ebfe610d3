-- name: duplicates
-- description: Copies marked is_duplicate (an earlier record carried the event_uuid with the same fingerprint) per event type, beside all stored events and the duplicate share in percent (a DOUBLE, rounded to 2 decimals; rows not checked, is_duplicate NULL, count as not duplicates).
SELECT
    event_type,
    count(*) AS events,
    count_if(is_duplicate) AS duplicates,
    round(CAST(count_if(is_duplicate) AS DOUBLE) * 100 / count(*), 2) AS duplicate_percent
FROM events
GROUP BY event_type
ORDER BY duplicates DESC, event_type
