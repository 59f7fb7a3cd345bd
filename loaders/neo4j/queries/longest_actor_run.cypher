// Longest run of consecutive leaves with the same actor.
//
// Answers: where does one actor act uninterrupted for the most leaf
// segments? Runs follow NEXT_LEAF; a leaf without an actor (or with the
// "no actor" marker) breaks a run. Actors are compared exactly.
//
// Parameters:
//   $video_uid       (string or null)  one video, or null for all videos
//   $not_applicable  (string)          the "no actor" marker, "n/a"
//   $limit           (integer)         how many runs to return
CALL () {
  MATCH (first:Segment {video_uid: $video_uid, is_leaf: true}) RETURN first
  UNION ALL
  WITH $video_uid AS one WHERE one IS NULL
  MATCH (first:Segment) WHERE first.actor IS NOT NULL AND first.is_leaf RETURN first
}
WITH first
WHERE first.is_leaf AND first.actor IS NOT NULL AND toLower(first.actor) <> $not_applicable
  AND NOT EXISTS { MATCH (:Segment {actor: first.actor})-[:NEXT_LEAF]->(first) }
MATCH run = (first)-[:NEXT_LEAF*0..]->(last:Segment)
WHERE all(leaf IN nodes(run) WHERE leaf.actor = first.actor)
  AND NOT EXISTS { MATCH (last)-[:NEXT_LEAF]->(:Segment {actor: first.actor}) }
RETURN first.video_uid AS video_uid, first.actor AS actor, length(run) + 1 AS leaves,
       first.start AS start, last.end AS end
ORDER BY leaves DESC, video_uid, start
LIMIT $limit
