// The most frequent verbs (first word of action_brief) at each level.
//
// Answers: which actions describe coarse segments, and which fine ones?
//
// Parameters:
//   $not_applicable  (string)   the "no action" marker, "n/a"
//   $top             (integer)  verbs kept per level
MATCH (s:Segment)
WHERE s.action_brief IS NOT NULL AND toLower(s.action_brief) <> $not_applicable
WITH s.level AS level, toLower(split(trim(s.action_brief), ' ')[0]) AS verb, count(*) AS times
ORDER BY level, times DESC, verb
WITH level, collect({verb: verb, times: times}) AS verbs
RETURN level, verbs[0..$top] AS top_verbs
ORDER BY level
