// Annotation coverage per tree level.
//
// Answers: how many segments of each level carry each kind of annotation?
// (GPT fields exist only on segments of 4 s or more, llama3 captions only on
// leaves.) Coverage is the fraction of the level's segments with the field.
//
// Parameters:
//   $video_uid  (string or null)  one video, or null for all videos
CALL () {
  MATCH (s:Segment {video_uid: $video_uid}) RETURN s
  UNION ALL
  WITH $video_uid AS one WHERE one IS NULL
  MATCH (s:Segment) RETURN s
}
WITH s.level AS level, count(*) AS segments,
     count(s.action_brief) AS action_brief, count(s.summary_brief) AS summary_brief,
     count(s.plm_caption) AS plm_caption, count(s.llama3_caption) AS llama3_caption
RETURN level, segments, action_brief, summary_brief, plm_caption, llama3_caption,
       toFloat(action_brief) / segments AS action_brief_coverage,
       toFloat(llama3_caption) / segments AS llama3_caption_coverage
ORDER BY level
