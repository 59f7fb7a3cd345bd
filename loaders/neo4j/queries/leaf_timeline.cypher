// A video's leaves in time order, walking the NEXT_LEAF chain.
//
// Answers: what is the finest-grained timeline of the video? The chain starts
// at the leaf with no incoming NEXT_LEAF and tiles the whole video.
//
// Parameters:
//   $video_uid  (string)  the video
MATCH (first:Segment {video_uid: $video_uid, is_leaf: true})
WHERE NOT EXISTS { MATCH (:Segment)-[:NEXT_LEAF]->(first) }
MATCH chain = (first)-[:NEXT_LEAF*0..]->(last:Segment)
WHERE NOT EXISTS { MATCH (last)-[:NEXT_LEAF]->(:Segment) }
UNWIND range(0, length(chain)) AS position
WITH position, nodes(chain)[position] AS leaf
RETURN position, leaf.node_id AS node_id, leaf.level AS level, leaf.start AS start,
       leaf.end AS end, leaf.plm_caption AS plm_caption
ORDER BY position
