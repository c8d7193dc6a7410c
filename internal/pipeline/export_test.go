package pipeline

// Ahead is ahead, for the tests of package pipeline_test.
var Ahead = ahead
