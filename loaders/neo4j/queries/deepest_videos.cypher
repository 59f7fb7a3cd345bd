// The deepest videos: tree depth, size and leaf count per video.
//
// Answers: which videos have the most finely cut Tree-of-Captions?
//
// Parameters:
//   $limit  (integer)  how many videos to return
MATCH (v:Video)-[:HAS_ROOT]->(:Segment)
MATCH (s:Segment {video_uid: v.video_uid})
RETURN v.video_uid AS video_uid, v.title AS title, max(s.level) AS depth,
       count(s) AS segments, sum(CASE WHEN s.is_leaf THEN 1 ELSE 0 END) AS leaves
ORDER BY depth DESC, segments DESC, video_uid
LIMIT $limit
