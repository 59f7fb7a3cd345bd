// Histogram of segments per tree level, with leaves and mean duration.
//
// Answers: how are segments spread over the levels, where do the leaves sit,
// and how long are segments at each level?
//
// Parameters:
//   $video_uid  (string or null)  one video, or null for all videos
CALL () {
  MATCH (s:Segment {video_uid: $video_uid}) RETURN s
  UNION ALL
  WITH $video_uid AS one WHERE one IS NULL
  MATCH (s:Segment) RETURN s
}
RETURN s.level AS level, count(*) AS segments,
       sum(CASE WHEN s.is_leaf THEN 1 ELSE 0 END) AS leaves,
       avg(s.duration) AS mean_duration
ORDER BY level
