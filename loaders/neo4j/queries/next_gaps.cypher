// NEXT gaps: same-level neighbours separated by a shallower leaf.
//
// Answers: where does a level skip time? A NEXT edge with a positive gap
// jumps over leaves of lower levels; they are returned with it.
//
// Parameters:
//   $min_gap  (float)    only gaps larger than this many seconds
//   $limit    (integer)  how many gaps to return
MATCH (a:Segment)-[r:NEXT]->(b:Segment)
WHERE r.gap > $min_gap
CALL (a, b) {
  MATCH (between:Segment {video_uid: a.video_uid, is_leaf: true})
  USING INDEX between:Segment(video_uid)
  WHERE between.level < a.level AND between.start >= a.end AND between.end <= b.start
  RETURN between
}
WITH a, b, r, between ORDER BY between.start
RETURN a.video_uid AS video_uid, a.level AS level, a.node_id AS before, b.node_id AS after,
       r.gap AS gap, collect(between.node_id) AS leaves_between
ORDER BY gap DESC, video_uid, before
LIMIT $limit
