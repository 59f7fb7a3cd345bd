// Segments whose parent has the same verb (the dataset's verb label).
//
// Answers: where does the hierarchy refine an action without changing it
// ("Cut paper" -> "Cutting along the line")? The verb is the `verb` property:
// the lemma of action_brief's first word, by the function training labels
// use (graphkit.labels), so inflected forms ("cutting") count as "cut";
// segments without a gpt action have none.
//
// Parameters:
//   $limit           (integer)  how many segments to return
MATCH (child:Segment)
WHERE child.verb IS NOT NULL
MATCH (parent:Segment)-[:PARENT_OF]->(child)
WHERE parent.verb = child.verb
RETURN child.video_uid AS video_uid, child.node_id AS node_id, child.level AS level,
       child.verb AS verb, parent.action_brief AS parent_action, child.action_brief AS action
ORDER BY video_uid, level, child.start
LIMIT $limit
