// The subtree under a segment, with its captions, in time order.
//
// Answers: what is said about every part of this segment? Returns the
// segment itself and all its descendants, ordered by start time (a parent
// before its first child).
//
// Parameters:
//   $video_uid  (string)  the video of the top segment
//   $node_id    (string)  the top segment (unique within its video)
MATCH (top:Segment {video_uid: $video_uid, node_id: $node_id})-[:PARENT_OF*0..]->(s:Segment)
RETURN s.node_id AS node_id, s.level AS level, s.start AS start, s.end AS end,
       s.is_leaf AS is_leaf, s.action_brief AS action_brief,
       s.plm_caption AS plm_caption, s.llama3_caption AS llama3_caption
ORDER BY start, level
