// Segments whose parent has the same verb (first word of action_brief).
//
// Answers: where does the hierarchy refine an action without changing it
// ("Cut paper" -> "Cut along the line")? Verbs are lower-cased first words;
// inflected forms ("cutting") count as different verbs.
//
// Parameters:
//   $not_applicable  (string)   the "no action" marker, "n/a"
//   $limit           (integer)  how many segments to return
MATCH (parent:Segment)-[:PARENT_OF]->(child:Segment)
WHERE parent.action_brief IS NOT NULL AND child.action_brief IS NOT NULL
  AND toLower(parent.action_brief) <> $not_applicable
  AND toLower(child.action_brief) <> $not_applicable
WITH parent, child,
     toLower(split(trim(parent.action_brief), ' ')[0]) AS parent_verb,
     toLower(split(trim(child.action_brief), ' ')[0]) AS child_verb
WHERE parent_verb = child_verb
RETURN child.video_uid AS video_uid, child.node_id AS node_id, child.level AS level,
       child_verb AS verb, parent.action_brief AS parent_action, child.action_brief AS action
ORDER BY video_uid, level, child.start
LIMIT $limit
