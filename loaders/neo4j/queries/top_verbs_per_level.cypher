// The most frequent verbs (the dataset's verb label) at each level.
//
// Answers: which actions describe coarse segments, and which fine ones? The
// verb is the `verb` property (graphkit.labels: the lemma of action_brief's
// first word, what training labels use); segments without a gpt action have none.
//
// Parameters:
//   $top             (integer)  verbs kept per level
MATCH (s:Segment)
WHERE s.verb IS NOT NULL
WITH s.level AS level, s.verb AS verb, count(*) AS times
ORDER BY level, times DESC, verb
WITH level, collect({verb: verb, times: times}) AS verbs
RETURN level, verbs[0..$top] AS top_verbs
ORDER BY level
