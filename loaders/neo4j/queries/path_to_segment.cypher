// Path from a video's root down to a segment (typically a leaf).
//
// Answers: which coarser segments contain this one, from the whole video down?
// Returns one row per segment on the path, root first (depth = level).
//
// Parameters:
//   $video_uid  (string)  the video of the segment
//   $node_id    (string)  the segment to reach, e.g. a leaf's node_id (unique within its video)
MATCH (video:Video {video_uid: $video_uid})-[:HAS_ROOT]->(root:Segment)
MATCH path = (root)-[:PARENT_OF*0..]->(target:Segment {video_uid: $video_uid, node_id: $node_id})
UNWIND nodes(path) AS s
RETURN video.video_uid AS video_uid, s.node_id AS node_id, s.level AS level,
       s.start AS start, s.end AS end, s.action_brief AS action_brief
ORDER BY level
