package event

// MatchType reports whether an event type matches a pattern, where '*' stands for any
// run of characters (including none and including dots).
func MatchType(pattern, typ string) bool {
	// Iterative glob with backtracking to the last star: linear for typical patterns.
	p, t := 0, 0
	star, mark := -1, 0
	for t < len(typ) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, t
			p++
		case p < len(pattern) && pattern[p] == typ[t]:
			p++
			t++
		case star >= 0:
			p = star + 1
			mark++
			t = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
