// Actions that most often follow a given action.
//
// Answers: after "A", what do people do next? Follows NEXT (the next segment
// of the same level) or NEXT_LEAF (the next leaf), as chosen; actions are
// compared case-insensitively, and the "no action" marker and repeats of the
// same action are left out.
//
// Parameters:
//   $action          (string)   the action_brief to start from, e.g. "Cut paper"
//   $relationship    (string)   "NEXT" or "NEXT_LEAF"
//   $not_applicable  (string)   the "no action" marker, "n/a"
//   $limit           (integer)  how many actions to return
MATCH (a:Segment)
WHERE a.action_brief IS NOT NULL AND toLower(a.action_brief) = toLower($action)
MATCH (a)-[r:NEXT|NEXT_LEAF]->(b:Segment)
WHERE type(r) = $relationship
  AND b.action_brief IS NOT NULL
  AND toLower(b.action_brief) <> $not_applicable
  AND toLower(b.action_brief) <> toLower(a.action_brief)
RETURN toLower(b.action_brief) AS next_action, count(*) AS times
ORDER BY times DESC, next_action
LIMIT $limit
