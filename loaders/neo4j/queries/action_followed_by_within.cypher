// Videos where action A is followed by action B within N seconds.
//
// Answers: in which videos does "B" start at most N seconds after an "A"
// ends (any levels; actions compared case-insensitively)?
//
// Parameters:
//   $action_a     (string)  the earlier action_brief, e.g. "Cut paper"
//   $action_b     (string)  the later action_brief, e.g. "Fold paper"
//   $max_seconds  (float)   the longest allowed wait between A's end and B's start
MATCH (a:Segment)
WHERE a.action_brief IS NOT NULL AND toLower(a.action_brief) = toLower($action_a)
CALL (a) {
  MATCH (b:Segment {video_uid: a.video_uid})
  WHERE toLower(b.action_brief) = toLower($action_b)
    AND b.start >= a.end
    AND b.start - a.end <= $max_seconds
  RETURN b
}
RETURN a.video_uid AS video_uid, count(*) AS pairs, min(b.start - a.end) AS shortest_wait
ORDER BY video_uid
