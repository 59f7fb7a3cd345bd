// Where a trained model's verb disagrees with the dataset's verb label, by level.
//
// Answers: at which levels of the tree does the model (its predictions
// written by `graphkit neo4j write-predictions`) disagree with the gpt label
// most? Counts the segments with both a `verb` and a `predicted_verb`, those
// where they differ, and the rate; optionally for one split ("test" for the
// videos the model never saw) and one run.
//
// Parameters:
//   $split  (string or null)  "train", "valid" or "test", or null for every split
//   $run    (string or null)  a prediction_run id, or null for any run
MATCH (s:Segment)
WHERE s.predicted_verb IS NOT NULL AND s.verb IS NOT NULL
  AND ($split IS NULL OR s.split = $split)
  AND ($run IS NULL OR s.prediction_run = $run)
WITH s.level AS level, count(*) AS segments,
     sum(CASE WHEN s.predicted_verb <> s.verb THEN 1 ELSE 0 END) AS disagreements
RETURN level, segments, disagreements, toFloat(disagreements) / segments AS disagreement_rate
ORDER BY level
