// The step sequence of a video at one level of its tree, in time order.
//
// Answers: what does the video show, step by step, at this granularity
// (level 1 = two halves, deeper levels = finer steps)? Segments without a GPT
// action (shorter than 4 s) have a null action_brief.
//
// Parameters:
//   $video_uid  (string)   the video
//   $level      (integer)  the tree level (root = 0)
MATCH (s:Segment {video_uid: $video_uid, level: $level})
RETURN s.node_id AS node_id, s.start AS start, s.end AS end,
       s.action_brief AS action_brief, s.plm_action AS plm_action
ORDER BY start
